-- A search's decisions live in its own row, one array per field in the search's order, instead of one row per
-- driver looked at. A busy search judges up to a hundred drivers: a row, its primary-key entry, its driver-index
-- entry and its foreign-key check each cost PostgreSQL more than the rest of the booking's writes together
-- (bench/dispatch.py beside 20,000 drivers); one row with a GIN entry per driver costs a fifth of it.
-- Owned by dispatch/.

ALTER TABLE ride_searches
    ADD COLUMN driver_ids   bigint[]   NOT NULL DEFAULT '{}',
    ADD COLUMN distances_m  integer[]  NOT NULL DEFAULT '{}',
    ADD COLUMN ranks        smallint[] NOT NULL DEFAULT '{}',  -- NULL where the driver was skipped
    ADD COLUMN vias         text[]     NOT NULL DEFAULT '{}',  -- 'nearest' or 'zone_queue'; NULL where skipped
    ADD COLUMN skip_reasons text[]     NOT NULL DEFAULT '{}',  -- NULL where the driver was ranked
    ADD CONSTRAINT ride_searches_decisions_aligned CHECK (
        cardinality(distances_m) = cardinality(driver_ids) AND cardinality(ranks) = cardinality(driver_ids)
        AND cardinality(vias) = cardinality(driver_ids) AND cardinality(skip_reasons) = cardinality(driver_ids));

UPDATE ride_searches s
SET driver_ids = d.driver_ids, distances_m = d.distances_m, ranks = d.ranks, vias = d.vias,
    skip_reasons = d.skip_reasons
FROM (
    SELECT search_id,
           array_agg(driver_id ORDER BY rank NULLS LAST, distance_m, driver_id) AS driver_ids,
           array_agg(distance_m ORDER BY rank NULLS LAST, distance_m, driver_id) AS distances_m,
           array_agg(rank ORDER BY rank NULLS LAST, distance_m, driver_id) AS ranks,
           array_agg(via ORDER BY rank NULLS LAST, distance_m, driver_id) AS vias,
           array_agg(skip_reason ORDER BY rank NULLS LAST, distance_m, driver_id) AS skip_reasons
    FROM ride_match_decisions GROUP BY search_id
) d
WHERE d.search_id = s.id;

DROP TABLE ride_match_decisions;

-- A driver's "why not me": the searches that looked at them. Without fastupdate each insert updates the index at
-- once, instead of now and then merging a pending list in the middle of somebody's booking.
CREATE INDEX ride_searches_driver_idx ON ride_searches USING gin (driver_ids) WITH (fastupdate = off);
CREATE INDEX ride_searches_time_idx ON ride_searches (searched_at);
