-- Rides and the history of every step they took. Owned by dispatch/.

CREATE TABLE rides (
    id                   bigserial PRIMARY KEY,
    -- Who rides: a subscriber, or a walk-in caller known only by name and number.
    subscriber_id        bigint REFERENCES subscribers (id),
    walk_in_name         text CHECK (length(walk_in_name) BETWEEN 1 AND 200),
    walk_in_phone        text CHECK (walk_in_phone ~ '^\+[1-9][0-9]{5,16}$'),
    call_id              bigint REFERENCES calls (id),
    pickup_text          text NOT NULL CHECK (length(pickup_text) BETWEEN 1 AND 500),
    pickup_landmark      text CHECK (length(pickup_landmark) <= 300),
    pickup_lat           double precision CHECK (pickup_lat BETWEEN -90 AND 90),
    pickup_lng           double precision CHECK (pickup_lng BETWEEN -180 AND 180),
    pickup_address_id    bigint REFERENCES subscriber_addresses (id) ON DELETE SET NULL,
    destination_text     text CHECK (length(destination_text) BETWEEN 1 AND 500),
    destination_landmark text CHECK (length(destination_landmark) <= 300),
    destination_lat      double precision CHECK (destination_lat BETWEEN -90 AND 90),
    destination_lng      double precision CHECK (destination_lng BETWEEN -180 AND 180),
    destination_address_id bigint REFERENCES subscriber_addresses (id) ON DELETE SET NULL,
    passengers           smallint NOT NULL DEFAULT 1 CHECK (passengers BETWEEN 1 AND 8),
    vehicle_class        text NOT NULL DEFAULT 'sedan' CHECK (vehicle_class IN ('sedan', 'van', 'luxury')),
    notes_for_driver     text CHECK (length(notes_for_driver) <= 500),
    pickup_at            timestamptz,  -- NULL: as soon as possible; a time: a pre-booking
    -- When the ride is wanted: what the console sorts and filters by.
    due_at               timestamptz GENERATED ALWAYS AS (COALESCE(pickup_at, created_at)) STORED,
    status               text NOT NULL CHECK (status IN ('scheduled', 'requested', 'offering', 'unassigned',
                             'assigned', 'arrived', 'on_board', 'completed', 'cancelled', 'no_driver_found', 'no_show')),
    driver_id            bigint REFERENCES drivers (id),
    -- The driver holding the pending offer: set exactly while the ride is offering.
    offered_to           bigint REFERENCES drivers (id),
    offer_count          smallint NOT NULL DEFAULT 0,  -- offers made in the current round of dispatch
    -- When the dispatcher next looks at a requested or unassigned ride; NULL: at once.
    dispatch_after       timestamptz,
    assigned_at          timestamptz,
    arrived_at           timestamptz,
    picked_up_at         timestamptz,
    finished_at          timestamptz,
    -- The fare quoted at booking; a phone booking's quote is locked: it is the price unless the trip changes.
    quote                jsonb,
    quote_total_rials    bigint CHECK (quote_total_rials >= 0),
    quote_locked         boolean NOT NULL DEFAULT false,
    -- The fare charged at completion and its split between the driver and the center.
    fare                 jsonb,
    fare_total_rials     bigint CHECK (fare_total_rials >= 0),
    driver_share_rials   bigint CHECK (driver_share_rials >= 0),
    center_share_rials   bigint CHECK (center_share_rials >= 0),
    fare_basis           text CHECK (fare_basis IN ('locked_quote', 'meter')),
    cancelled_by_kind    text CHECK (cancelled_by_kind IN ('operator', 'driver', 'customer', 'system')),
    cancelled_by_id      bigint,
    cancel_reason        text CHECK (length(cancel_reason) <= 500),
    booked_by            bigint REFERENCES staff_users (id),
    booked_via           text NOT NULL CHECK (booked_via IN ('console', 'self_service')),
    -- Who an idempotency key belongs to ('staff:12', 'customer:34'): keys are only unique per booker.
    idempotency_scope    text NOT NULL,
    idempotency_key      text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash         text NOT NULL,  -- the booking as asked, so a reused key with other content is refused
    -- Bumped by every change, so a conditional UPDATE notices any concurrent writer, not only a status change.
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((subscriber_id IS NULL) = (walk_in_name IS NOT NULL AND walk_in_phone IS NOT NULL)),
    CHECK ((pickup_lat IS NULL) = (pickup_lng IS NULL)),
    CHECK ((destination_lat IS NULL) = (destination_lng IS NULL)),
    CHECK (destination_text IS NOT NULL OR (destination_landmark IS NULL AND destination_lat IS NULL)),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL)),
    CHECK (booked_via <> 'console' OR booked_by IS NOT NULL),
    CONSTRAINT rides_offered_while_offering CHECK ((status = 'offering') = (offered_to IS NOT NULL)),
    CONSTRAINT rides_quote_total CHECK ((quote IS NULL) = (quote_total_rials IS NULL)),
    CONSTRAINT rides_fare_total CHECK ((fare IS NULL) = (fare_total_rials IS NULL)),
    CONSTRAINT rides_fare_split CHECK (fare_total_rials = driver_share_rials + center_share_rials),
    -- A driver is on every ride from assignment on; completed or no-show rides keep theirs.
    CONSTRAINT rides_driver_once_assigned
        CHECK (status NOT IN ('assigned', 'arrived', 'on_board', 'completed', 'no_show') OR driver_id IS NOT NULL)
);
-- A double click or a retried request books one ride: the second insert finds the first.
CREATE UNIQUE INDEX rides_idempotency_key ON rides (idempotency_scope, idempotency_key);
-- A driver drives one ride at a time.
CREATE UNIQUE INDEX rides_one_active_per_driver ON rides (driver_id)
    WHERE driver_id IS NOT NULL
      AND status IN ('scheduled', 'requested', 'offering', 'unassigned', 'assigned', 'arrived', 'on_board');
CREATE INDEX rides_status_due_idx ON rides (status, due_at);
-- The dispatcher's work list: rides waiting for a search, a retry or their release time.
CREATE INDEX rides_dispatch_idx ON rides (status, dispatch_after)
    WHERE status IN ('scheduled', 'requested', 'unassigned');
CREATE INDEX rides_due_idx ON rides (due_at DESC);
-- The active-ride check and a caller's history.
CREATE INDEX rides_subscriber_idx ON rides (subscriber_id, due_at DESC) WHERE subscriber_id IS NOT NULL;
CREATE INDEX rides_walk_in_phone_idx ON rides (walk_in_phone, due_at DESC) WHERE walk_in_phone IS NOT NULL;
CREATE INDEX rides_driver_idx ON rides (driver_id, due_at DESC) WHERE driver_id IS NOT NULL;

-- Every step of every ride: booked, moved by the state machine, or re-routed.
CREATE TABLE ride_events (
    id          bigserial PRIMARY KEY,
    ride_id     bigint NOT NULL REFERENCES rides (id) ON DELETE CASCADE,
    action      text NOT NULL CHECK (action IN ('book', 'change_route', 'release', 'offer', 'accept', 'assign',
                    'mark_unassigned', 'mark_no_driver_found', 'arrive', 'pick_up', 'complete', 'cancel', 'no_show')),
    from_status text,  -- NULL for the booking itself
    to_status   text NOT NULL,
    actor_kind  text NOT NULL CHECK (actor_kind IN ('operator', 'driver', 'customer', 'system')),
    actor_id    bigint,
    reason      text CHECK (length(reason) <= 500),
    driver_id   bigint REFERENCES drivers (id),
    details     jsonb,  -- e.g. the route before and after a change
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ride_events_ride_idx ON ride_events (ride_id, id);
