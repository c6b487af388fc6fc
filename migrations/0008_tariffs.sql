-- Tariffs as versioned data, one tariff per vehicle class at any instant, and the holiday calendar. Owned by dispatch/.
-- Documents are checked in full by dispatch/tariffs.py; these constraints are the last word on what two admins could
-- race on (version numbers, overlapping periods) and on figures no tariff can have.

-- A tariff is a code ("standard") that keeps its vehicle class across its versions.
CREATE TABLE tariffs (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    vehicle_class text NOT NULL CHECK (vehicle_class IN ('sedan', 'van', 'luxury')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (code, vehicle_class)
);

CREATE TABLE tariff_versions (
    id                       bigserial PRIMARY KEY,
    code                     text NOT NULL,
    version                  integer NOT NULL CHECK (version >= 1),
    vehicle_class            text NOT NULL,
    -- In force from effective_from (inclusive) to effective_until (exclusive); NULL: until a newer version.
    effective_from           timestamptz NOT NULL,
    effective_until          timestamptz,
    flag_fall_rials          bigint NOT NULL CHECK (flag_fall_rials >= 0),  -- includes the first included_metres
    included_metres          integer NOT NULL CHECK (included_metres >= 0),
    per_km_rials             bigint NOT NULL CHECK (per_km_rials >= 0),
    per_minute_waiting_rials bigint NOT NULL CHECK (per_minute_waiting_rials >= 0),
    slow_speed_kmh           double precision NOT NULL CHECK (slow_speed_kmh > 0),
    time_or_distance_higher  boolean NOT NULL DEFAULT false,
    minimum_fare_rials       bigint NOT NULL CHECK (minimum_fare_rials >= 0),
    rounding_unit_rials      bigint NOT NULL CHECK (rounding_unit_rials >= 1),
    -- As a document lists them: [{"name", "days", "start", "end", "kind", "value", "label_en", "label_fa"}].
    schedules                jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(schedules) = 'array'),
    -- [{"from_zone", "to_zone", "price_rials", "both_directions", "schedules_apply"}], zones named by code.
    zone_prices              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(zone_prices) = 'array'),
    created_by               bigint REFERENCES staff_users (id) ON DELETE SET NULL,  -- NULL: seeded here
    created_at               timestamptz NOT NULL DEFAULT now(),
    -- A version withdrawn before it took effect stays on record but prices nothing.
    withdrawn_at             timestamptz,
    withdrawn_by             bigint REFERENCES staff_users (id) ON DELETE SET NULL,
    UNIQUE (code, version),
    -- The class comes from the tariff, so two versions of one tariff never price different cars.
    FOREIGN KEY (code, vehicle_class) REFERENCES tariffs (code, vehicle_class),
    CONSTRAINT tariff_versions_period_order CHECK (effective_until > effective_from),
    -- One tariff per class at any instant, so a quote never has to choose. Without btree_gist (the embedded
    -- PostgreSQL lacks it) there is one constraint per class; together with the class staying with its tariff,
    -- they also keep two versions of one tariff from overlapping.
    CONSTRAINT tariff_versions_no_overlap_sedan EXCLUDE USING gist (
        tstzrange(effective_from, effective_until, '[)') WITH &&) WHERE (vehicle_class = 'sedan' AND withdrawn_at IS NULL),
    CONSTRAINT tariff_versions_no_overlap_van EXCLUDE USING gist (
        tstzrange(effective_from, effective_until, '[)') WITH &&) WHERE (vehicle_class = 'van' AND withdrawn_at IS NULL),
    CONSTRAINT tariff_versions_no_overlap_luxury EXCLUDE USING gist (
        tstzrange(effective_from, effective_until, '[)') WITH &&) WHERE (vehicle_class = 'luxury' AND withdrawn_at IS NULL)
);
CREATE INDEX tariff_versions_in_force_idx ON tariff_versions (vehicle_class, effective_from DESC)
    WHERE withdrawn_at IS NULL;

-- Days on which schedules naming "holiday" apply (Nowruz, religious holidays announced each year...).
CREATE TABLE holidays (
    day  date PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

-- A tariff for each vehicle class, so a fresh install quotes at once. THE FIGURES ARE ILLUSTRATIVE, in the style
-- of Tehran's taxi tariff (flag fall including the first kilometre, a rate per km, waiting per minute below
-- 10 km/h, a minimum fare, totals rounded to 10,000 rials = 1,000 tomans, 20 % at night from 23:00 to 05:00 and
-- 10 % on Fridays and holidays); replace them with the city's published tariff by publishing a new version.
-- In force from 1 Farvardin 1404 (21 March 2025), midnight in Tehran.
INSERT INTO tariffs (code, vehicle_class) VALUES ('standard', 'sedan'), ('van', 'van'), ('luxury', 'luxury');

INSERT INTO tariff_versions (code, version, vehicle_class, effective_from, flag_fall_rials, included_metres,
                             per_km_rials, per_minute_waiting_rials, slow_speed_kmh, minimum_fare_rials,
                             rounding_unit_rials, schedules)
SELECT code, 1, vehicle_class, '2025-03-21 00:00:00+03:30', flag_fall, 1000, per_km, per_minute, 10, minimum, 10000,
       '[{"name": "night", "days": ["saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday"],
          "start": "23:00", "end": "05:00", "kind": "surcharge_percent", "value": 20,
          "label_en": "Night (23:00-05:00)", "label_fa": "شبانه (۲۳ تا ۵)"},
         {"name": "friday_holiday", "days": ["friday", "holiday"], "start": "00:00", "end": "00:00",
          "kind": "surcharge_percent", "value": 10, "label_en": "Friday or holiday", "label_fa": "جمعه و تعطیل"}]'
FROM (VALUES
    --          flag fall  per km   per minute  minimum
    ('standard', 300000,   150000,  50000,      400000),
    ('van',      400000,   200000,  60000,      500000),
    ('luxury',   600000,   300000,  90000,      800000)
) AS seed (code, flag_fall, per_km, per_minute, minimum)
JOIN tariffs USING (code);
