-- Dispatch zones: polygons with a rank queue each and a dispatch strategy by weekday and time. Owned by dispatch/.
-- The queues themselves live in Redis (dispatch/zone_queue.py): they are rebuilt from the drivers' positions.

CREATE TABLE zones (
    id               bigserial PRIMARY KEY,
    -- What tariffs' fixed zone prices name (IKA for the airport): upper case, so a typed "ika" is the same zone.
    code             text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,19}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- [[lat, lng], ...], the ring not closed (the last vertex joins the first); checked in full by dispatch/zones.py.
    polygon          jsonb NOT NULL CHECK (
                         jsonb_typeof(polygon) = 'array'
                         AND jsonb_array_length(polygon) BETWEEN 3 AND 500
                         AND NOT jsonb_path_exists(polygon, 'strict $[*] ? (@.type() != "array" || @.size() != 2
                             || @[0].type() != "number" || @[1].type() != "number"
                             || @[0] < -90 || @[0] > 90 || @[1] < -180 || @[1] > 180)')),
    -- The polygon's bounding box, so "which zones could hold this point" is four comparisons.
    min_lat          double precision NOT NULL CHECK (min_lat BETWEEN -90 AND 90),
    max_lat          double precision NOT NULL CHECK (max_lat BETWEEN -90 AND 90),
    min_lng          double precision NOT NULL CHECK (min_lng BETWEEN -180 AND 180),
    max_lng          double precision NOT NULL CHECK (max_lng BETWEEN -180 AND 180),
    default_strategy text NOT NULL DEFAULT 'queue_first' CHECK (default_strategy IN ('queue_first', 'nearest')),
    -- [{"days": [0-6 as date.weekday()], "start": "HH:MM", "end": "HH:MM", "strategy": ...}]; start = end is all day.
    windows          jsonb NOT NULL DEFAULT '[]' CHECK (
                         jsonb_typeof(windows) = 'array'
                         AND NOT jsonb_path_exists(windows, 'strict $[*] ? (@.type() != "object"
                             || !(@.strategy == "queue_first" || @.strategy == "nearest")
                             || @.start.type() != "string" || @.end.type() != "string"
                             || !(@.start like_regex "^([01][0-9]|2[0-3]):[0-5][0-9]$")
                             || !(@.end like_regex "^([01][0-9]|2[0-3]):[0-5][0-9]$")
                             || @.days.type() != "array" || @.days.size() == 0)')
                         AND NOT jsonb_path_exists(windows, 'lax $[*] ? (!exists(@.days) || !exists(@.start)
                             || !exists(@.end) || !exists(@.strategy))')
                         AND NOT jsonb_path_exists(windows, 'lax $[*].days ? (@.type() != "number" || @ < 0 || @ > 6)')),
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (min_lat < max_lat AND min_lng < max_lng)
);
