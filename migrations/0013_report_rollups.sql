-- Reports' rollups: counters per hour, per day and area, driver and operator, per customer and cohort, kept up to
-- date as facts arrive (reports/service.py folds them in), so a report over years reads thousands of rows, not
-- millions. Owned by reports/. An hour is the instant the center's local hour starts (TAXICRM_TIMEZONE, recorded
-- in report_basis), so a local day or weekday is made of whole hours even in zones half an hour off UTC.

-- What the rollups were built with; settings that differ at start-up mean a rebuild.
CREATE TABLE report_basis (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    timezone   text NOT NULL,
    hex_size_m double precision NOT NULL CHECK (hex_size_m > 0),
    hex_lat0   double precision NOT NULL CHECK (hex_lat0 BETWEEN -89 AND 89),
    built_at   timestamptz NOT NULL
);

-- How far each fact feed has been read: every change visible in `cursor` (a pg_snapshot's text) is folded in
-- (taxicrm/changes.py explains the reading).
CREATE TABLE report_feeds (
    feed      text PRIMARY KEY CHECK (feed IN ('rides', 'calls', 'offers', 'complaints', 'ratings')),
    cursor    text NOT NULL,
    folded_at timestamptz NOT NULL  -- when the feed last caught up: how fresh the reports are
);

-- Where a pickup is, by its point rounded to 0.001 degrees (about 100 m): its hex cell (reports/hexgrid.py) and
-- the dispatch zone holding it (0: none). Filled as new points arrive, emptied when the zones change.
CREATE TABLE report_places (
    lat_e3  integer NOT NULL,
    lng_e3  integer NOT NULL,
    cell    bigint NOT NULL,
    zone_id bigint NOT NULL,
    PRIMARY KEY (lat_e3, lng_e3)
);
CREATE TABLE report_zone_signature (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    signature text NOT NULL
);

-- Every ride as it was last counted: a change to the ride takes this form out of the rollups and puts the new
-- one in, so each ride is counted once, in its latest form. Customers' figures are recomputed from it.
CREATE TABLE report_rides (
    ride_id          bigint PRIMARY KEY,
    hour             timestamptz NOT NULL,  -- the local hour the ride was wanted (its due time)
    day              date NOT NULL,
    cell             bigint NOT NULL,       -- 0: no pickup coordinates
    zone_id          bigint NOT NULL,       -- 0: outside every zone, or no coordinates
    subscriber_id    bigint,
    driver_id        bigint,
    operator_id      bigint,                -- who booked it at the console
    outcome          text NOT NULL CHECK (outcome IN ('open', 'completed', 'cancelled', 'cancelled_waiting',
                                                      'no_driver', 'no_show')),
    fare_rials       bigint NOT NULL,       -- completed rides only, else 0
    commission_rials bigint NOT NULL,
    assign_seconds   integer,               -- booking to assignment, rides wanted at once only
    busy_seconds     integer                -- assignment to the end of the trip, completed rides only
);
CREATE INDEX report_rides_subscriber_idx ON report_rides (subscriber_id, hour) WHERE subscriber_id IS NOT NULL;

-- Histograms are integer arrays of counts, bucket 1 first (reports/histograms.py); these add them up.
CREATE FUNCTION report_add_counts(a integer[], b integer[]) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0)
                 FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i) ORDER BY i);
CREATE AGGREGATE report_sum_counts(integer[]) (
    SFUNC = report_add_counts, STYPE = integer[], COMBINEFUNC = report_add_counts, INITCOND = '{}',
    PARALLEL = SAFE);
-- Running totals of a histogram: element k counts the values in its first k buckets.
CREATE FUNCTION report_running_counts(a integer[]) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT (sum(x) OVER (ORDER BY i))::integer FROM unnest(a) WITH ORDINALITY AS u(x, i) ORDER BY i);
-- The dense histogram of `size` buckets from (bucket from 0, count) pairs.
CREATE FUNCTION report_counts(buckets integer[], counts bigint[], size integer) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT coalesce(sum(c.n), 0)::integer
                 FROM generate_series(0, size - 1) AS g(i) LEFT JOIN unnest(buckets, counts) AS c(b, n) ON c.b = g.i
                 GROUP BY g.i ORDER BY g.i);

-- The whole center, hour by hour: telephony beside dispatch.
CREATE TABLE report_hourly (
    hour                    timestamptz PRIMARY KEY,
    calls_answered          integer NOT NULL DEFAULT 0,
    calls_abandoned         integer NOT NULL DEFAULT 0,  -- ended unanswered, whatever the cause
    -- Element k: calls answered in under k seconds (k = 1..120), so any service level is one element away.
    answer_waits            integer[] NOT NULL DEFAULT '{}',
    handle_seconds          bigint NOT NULL DEFAULT 0,   -- answer to hang-up, answered calls
    rides_booked            integer NOT NULL DEFAULT 0,
    rides_completed         integer NOT NULL DEFAULT 0,
    rides_cancelled         integer NOT NULL DEFAULT 0,  -- after a driver was assigned
    rides_cancelled_waiting integer NOT NULL DEFAULT 0,  -- before any driver was assigned
    rides_no_driver         integer NOT NULL DEFAULT 0,
    rides_no_show           integer NOT NULL DEFAULT 0,
    revenue_rials           bigint NOT NULL DEFAULT 0,
    commission_rials        bigint NOT NULL DEFAULT 0,
    assign_waits            integer[] NOT NULL DEFAULT '{}',  -- rides by 15 s of waiting for a driver, 15 min+ last
    busy_seconds            bigint NOT NULL DEFAULT 0
);

-- The same counts by month, weekday (PostgreSQL's dow: Sunday 0) and local hour, so a heatmap over a year adds
-- a dozen months of rows and only the hours of the months it takes in part.
CREATE TABLE report_slot_monthly (LIKE report_hourly INCLUDING DEFAULTS);
ALTER TABLE report_slot_monthly DROP COLUMN hour,
    ADD COLUMN month date NOT NULL, ADD COLUMN dow smallint NOT NULL CHECK (dow BETWEEN 0 AND 6),
    ADD COLUMN hour smallint NOT NULL CHECK (hour BETWEEN 0 AND 23), ADD PRIMARY KEY (month, dow, hour);

-- Rides by local day and area, in both grids: 'hex' (area: a cell id) and 'zone' (area: a zone id, 0 none).
CREATE TABLE report_area_daily (
    grid             text NOT NULL CHECK (grid IN ('hex', 'zone')),
    day              date NOT NULL,
    area             bigint NOT NULL,
    rides            integer NOT NULL DEFAULT 0,
    completed        integer NOT NULL DEFAULT 0,
    unserved         integer NOT NULL DEFAULT 0,  -- no driver found, or cancelled while waiting for one
    revenue_rials    bigint NOT NULL DEFAULT 0,
    commission_rials bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (grid, day, area)
);

CREATE TABLE report_area_monthly (LIKE report_area_daily INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE report_area_monthly RENAME COLUMN day TO month;
ALTER TABLE report_area_monthly ADD PRIMARY KEY (grid, month, area);

CREATE TABLE report_driver_daily (
    day              date NOT NULL,
    driver_id        bigint NOT NULL,
    offered          integer NOT NULL DEFAULT 0,  -- offers the driver answered or let run out (not withdrawn ones)
    accepted         integer NOT NULL DEFAULT 0,
    declined         integer NOT NULL DEFAULT 0,
    ignored          integer NOT NULL DEFAULT 0,  -- ran out, or the app dropped off
    completed        integer NOT NULL DEFAULT 0,
    revenue_rials    bigint NOT NULL DEFAULT 0,
    commission_rials bigint NOT NULL DEFAULT 0,
    busy_seconds     bigint NOT NULL DEFAULT 0,
    rating_sum       integer NOT NULL DEFAULT 0,  -- current ratings of the driver's rides, by the day given
    ratings          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, driver_id)
);

CREATE TABLE report_driver_monthly (LIKE report_driver_daily INCLUDING DEFAULTS);
ALTER TABLE report_driver_monthly RENAME COLUMN day TO month;
ALTER TABLE report_driver_monthly ADD PRIMARY KEY (month, driver_id);

CREATE TABLE report_operator_daily (
    day             date NOT NULL,
    operator_id     bigint NOT NULL,
    calls_handled   integer NOT NULL DEFAULT 0,
    handle_seconds  bigint NOT NULL DEFAULT 0,
    bookings        integer NOT NULL DEFAULT 0,
    bookings_completed integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, operator_id)
);

-- Customers' completed rides: lifetime figures, active months, and cohorts by the month of the first ride.
CREATE TABLE report_customers (
    subscriber_id bigint PRIMARY KEY,
    first_month   date NOT NULL,
    first_ride_at timestamptz NOT NULL,  -- the local hours of the first and last completed rides
    last_ride_at  timestamptz NOT NULL,
    last_day      date NOT NULL,
    rides         integer NOT NULL,
    revenue_rials bigint NOT NULL
);
-- The at-risk list and the churned regulars: the biggest customers whose last ride falls in a band of days.
CREATE INDEX report_customers_revenue_idx ON report_customers (revenue_rials DESC);
CREATE INDEX report_customers_rides_idx ON report_customers (rides DESC);
-- Customers counted by the shape RFM reads (the day of the last ride, the month of the first, rides up to a cap
-- above every frequency threshold of reports/rfm.py), so segmenting a million customers reads a few thousand rows.
CREATE TABLE report_customer_shapes (
    last_day      date NOT NULL,
    first_month   date NOT NULL,
    rides         integer NOT NULL,  -- capped
    customers     integer NOT NULL,
    rides_total   bigint NOT NULL,
    revenue_rials bigint NOT NULL,
    PRIMARY KEY (last_day, first_month, rides)
);
CREATE TABLE report_customer_months (
    subscriber_id bigint NOT NULL,
    month         date NOT NULL,
    rides         integer NOT NULL,
    revenue_rials bigint NOT NULL,
    PRIMARY KEY (subscriber_id, month)
);
CREATE TABLE report_cohorts (
    cohort    date NOT NULL,  -- the month of the first ride
    month     date NOT NULL,  -- a month the cohort's customers rode in
    customers integer NOT NULL,
    PRIMARY KEY (cohort, month)
);

-- Complaints and praise as last counted: few enough to report on directly, by any of their links.
CREATE TABLE report_complaints (
    complaint_id       bigint PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('complaint', 'praise')),
    category           text NOT NULL,
    status             text NOT NULL,
    created_at         timestamptz NOT NULL,
    day                date NOT NULL,
    closed_at          timestamptz,
    resolved           boolean NOT NULL,
    first_response_at  timestamptz,
    first_response_due timestamptz,
    resolution_due     timestamptz,
    ride_id            bigint,
    subscriber_id      bigint,
    driver_id          bigint,
    operator_id        bigint,
    cell               bigint NOT NULL,  -- the ride's pickup, 0 when unknown
    zone_id            bigint NOT NULL
);
CREATE INDEX report_complaints_day_idx ON report_complaints (day);
CREATE INDEX report_complaints_open_idx ON report_complaints (created_at)
    WHERE status IN ('new', 'assigned', 'pending');
CREATE INDEX report_complaints_subscriber_idx ON report_complaints (subscriber_id, created_at)
    WHERE subscriber_id IS NOT NULL;

-- Ratings as last counted (a replaced rating is no longer current and leaves the driver's average).
CREATE TABLE report_ratings (
    rating_id  bigint PRIMARY KEY,
    day        date NOT NULL,
    driver_id  bigint NOT NULL,
    value      smallint NOT NULL,
    is_current boolean NOT NULL
);

-- The change stamps reports read the facts of dispatch and callcenter by (their fact functions: dispatch/ride_store.py,
-- dispatch/offer_store.py, callcenter/call_store.py; taxicrm/changes.py explains the reading). Each row carries the
-- transaction that last changed what reports count; unlike a timestamp or a sequence, reading by these never
-- skips the rows of a transaction that committed late, and never reads a change twice.
CREATE FUNCTION reports_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

ALTER TABLE rides ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX rides_changed_idx ON rides (changed_xid, id);
-- Any change to a ride may change how it counts (its status, fare, route, or its subscriber after a merge).
CREATE TRIGGER rides_changed BEFORE UPDATE ON rides FOR EACH ROW EXECUTE FUNCTION reports_mark_changed();

ALTER TABLE calls ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX calls_changed_idx ON calls (changed_xid, id);
-- A call counts once, when it ends; later changes (a call-back handled, a merge) must not count it again.
CREATE TRIGGER calls_changed BEFORE UPDATE ON calls FOR EACH ROW
    WHEN (OLD.answered_at IS DISTINCT FROM NEW.answered_at OR OLD.ended_at IS DISTINCT FROM NEW.ended_at)
    EXECUTE FUNCTION reports_mark_changed();

ALTER TABLE ride_offers ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX ride_offers_changed_idx ON ride_offers (changed_xid, id);
-- An offer counts once, when it ends.
CREATE TRIGGER ride_offers_changed BEFORE UPDATE ON ride_offers FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION reports_mark_changed();
