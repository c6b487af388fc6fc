-- Tracking tokens of the customer page: whoever holds one may follow one self-service ride and cancel it
-- before pickup. Only the token's sha256 is kept; the token itself exists only in the customer's browser.
-- Owned by dispatch/.

CREATE TABLE ride_tracking (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    ride_id    bigint NOT NULL REFERENCES rides (id) ON DELETE CASCADE,
    -- The mobile number the customer confirmed the booking with (E.164, as subscribers/phones.py makes it):
    -- a subscriber's ride does not otherwise say which of their phones booked it.
    phone      text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{5,16}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A retried booking gets a token of its own for the same ride, so a ride may have several.
CREATE INDEX ride_tracking_ride_idx ON ride_tracking (ride_id);
