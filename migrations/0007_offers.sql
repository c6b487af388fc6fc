-- Offers made to drivers, the matching decisions behind them, and the GPS trace of each trip. Owned by dispatch/.

CREATE TABLE ride_offers (
    id          bigserial PRIMARY KEY,
    ride_id     bigint NOT NULL REFERENCES rides (id) ON DELETE CASCADE,
    driver_id   bigint NOT NULL REFERENCES drivers (id),
    search_id   bigint NOT NULL,  -- the search (see ride_match_decisions) that chose this driver
    rank        smallint NOT NULL CHECK (rank >= 1),
    distance_m  integer NOT NULL CHECK (distance_m >= 0),
    via         text NOT NULL CHECK (via IN ('nearest', 'zone_queue', 'manual')),
    offered_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    -- pending until the driver answers; lost: the driver dropped off and did not come back in time;
    -- withdrawn: the ride was cancelled, assigned by hand or closed meanwhile.
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'lost', 'withdrawn')),
    answered_at timestamptz,
    reason      text CHECK (length(reason) <= 300),
    CHECK ((status = 'pending') = (answered_at IS NULL)),
    CHECK (expires_at > offered_at)
);
-- One driver at a time per ride, and one offer at a time per driver: the database says so, not the code.
CREATE UNIQUE INDEX ride_offers_one_pending_per_ride ON ride_offers (ride_id) WHERE status = 'pending';
CREATE UNIQUE INDEX ride_offers_one_pending_per_driver ON ride_offers (driver_id) WHERE status = 'pending';
CREATE INDEX ride_offers_expiry_idx ON ride_offers (expires_at) WHERE status = 'pending';
CREATE INDEX ride_offers_ride_idx ON ride_offers (ride_id, id);
CREATE INDEX ride_offers_driver_idx ON ride_offers (driver_id, offered_at DESC);

-- Every search for a ride's driver and what it made of each nearby driver: a supervisor's answer to
-- a driver's "why not me".
CREATE TABLE ride_searches (
    id          bigserial PRIMARY KEY,
    ride_id     bigint NOT NULL REFERENCES rides (id) ON DELETE CASCADE,
    radius_m    integer NOT NULL CHECK (radius_m > 0),
    strategy    text NOT NULL CHECK (strategy IN ('queue_first', 'nearest')),
    zone_id     bigint,  -- the pickup's zone, if any
    searched_at timestamptz NOT NULL
);
CREATE INDEX ride_searches_ride_idx ON ride_searches (ride_id, id);

CREATE TABLE ride_match_decisions (
    search_id   bigint NOT NULL REFERENCES ride_searches (id) ON DELETE CASCADE,
    driver_id   bigint NOT NULL,
    distance_m  integer NOT NULL,
    rank        smallint,  -- place in the offer order; NULL when skipped
    via         text CHECK (via IN ('nearest', 'zone_queue')),
    skip_reason text,
    PRIMARY KEY (search_id, driver_id),
    CHECK ((rank IS NULL) <> (skip_reason IS NULL))
);
CREATE INDEX ride_match_decisions_driver_idx ON ride_match_decisions (driver_id, search_id DESC);

-- The positions a driver's app reported while the passenger was aboard: what the final fare is measured from.
CREATE TABLE ride_trace_points (
    ride_id    bigint NOT NULL REFERENCES rides (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng        double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    accuracy_m real CHECK (accuracy_m >= 0),
    PRIMARY KEY (ride_id, at)  -- A fix resent after a reconnect is stored once.
);
