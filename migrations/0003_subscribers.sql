-- Subscribers (the center's callers), their phones, saved addresses, notes, flags and merges. Owned by subscribers/.

CREATE TABLE subscribers (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    name_key       text NOT NULL DEFAULT '',  -- search_key(name): what searches and duplicate checks compare
    is_vip         boolean NOT NULL DEFAULT false,
    loyalty_tier   text NOT NULL DEFAULT 'none' CHECK (loyalty_tier IN ('none', 'bronze', 'silver', 'gold')),
    blocked_at     timestamptz,
    blocked_reason text CHECK (length(blocked_reason) <= 500),
    blocked_by     bigint REFERENCES staff_users (id),
    merged_into    bigint REFERENCES subscribers (id),  -- set when merged away; the row stays for the audit trail
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((blocked_at IS NULL) = (blocked_reason IS NULL))
);
CREATE INDEX subscribers_name_key_idx ON subscribers (name_key text_pattern_ops) WHERE merged_into IS NULL;

CREATE TABLE subscriber_phones (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    e164          text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{5,16}$'),
    raw           text NOT NULL CHECK (length(raw) <= 40),
    national      text NOT NULL,  -- national significant digits, for partial-number search
    kind          text NOT NULL CHECK (kind IN ('mobile', 'landline', 'voip', 'other')),
    label         text CHECK (length(label) <= 50),
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- A number belongs to one subscriber at a time: the screen-pop finds exactly one card per known caller.
CREATE UNIQUE INDEX subscriber_phones_e164_key ON subscriber_phones (e164);
CREATE INDEX subscriber_phones_subscriber_idx ON subscriber_phones (subscriber_id);
CREATE INDEX subscriber_phones_national_idx ON subscriber_phones (national text_pattern_ops);

-- Numbers a subscriber used to have: "same number in the past" is a strong duplicate hint.
CREATE TABLE subscriber_phone_history (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    e164          text NOT NULL,
    removed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriber_phone_history_e164_idx ON subscriber_phone_history (e164);

CREATE TABLE subscriber_addresses (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    label         text NOT NULL DEFAULT '' CHECK (length(label) <= 50),
    full_text     text NOT NULL CHECK (length(full_text) BETWEEN 1 AND 500),
    text_key      text NOT NULL,  -- search_key(full_text)
    landmark      text CHECK (length(landmark) <= 300),
    lat           double precision CHECK (lat BETWEEN -90 AND 90),
    lng           double precision CHECK (lng BETWEEN -180 AND 180),
    pickup_count  integer NOT NULL DEFAULT 0 CHECK (pickup_count >= 0),
    dropoff_count integer NOT NULL DEFAULT 0 CHECK (dropoff_count >= 0),
    -- Pickups by hour of day in the center's zone, so the card can put the address likely wanted now first.
    pickups_by_hour integer[] NOT NULL DEFAULT array_fill(0, ARRAY[24]) CHECK (cardinality(pickups_by_hour) = 24),
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((lat IS NULL) = (lng IS NULL))
);
CREATE INDEX subscriber_addresses_subscriber_idx ON subscriber_addresses (subscriber_id);
CREATE INDEX subscriber_addresses_text_key_idx ON subscriber_addresses (text_key text_pattern_ops);

CREATE TABLE subscriber_notes (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    mood          text CHECK (mood IN ('calm', 'angry', 'in_a_hurry', 'elderly', 'needs_help')),
    is_pinned     boolean NOT NULL DEFAULT false,
    author_id     bigint REFERENCES staff_users (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriber_notes_subscriber_idx ON subscriber_notes (subscriber_id, is_pinned DESC, created_at DESC);

-- What every merge moved, so nothing is ever lost without a trace.
CREATE TABLE subscriber_merges (
    id         bigserial PRIMARY KEY,
    kept_id    bigint NOT NULL REFERENCES subscribers (id),
    merged_id  bigint NOT NULL REFERENCES subscribers (id),
    moved      jsonb NOT NULL,  -- {"phones": [ids], "addresses": [ids], "notes": [ids], "calls": n, ...}
    merged_by  bigint REFERENCES staff_users (id),
    merged_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (kept_id <> merged_id)
);

-- Substring search on names, numbers and addresses: trigram indexes where the server has pg_trgm
-- (PostgreSQL packages and images do; the embedded wheel does not, and then searches scan).
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX subscribers_name_trgm ON subscribers USING gin (name_key gin_trgm_ops);
    CREATE INDEX subscriber_phones_national_trgm ON subscriber_phones USING gin (national gin_trgm_ops);
    CREATE INDEX subscriber_addresses_text_trgm ON subscriber_addresses USING gin (text_key gin_trgm_ops);
EXCEPTION WHEN undefined_file OR feature_not_supported OR insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm is not available: substring searches will scan';
END
$$;
