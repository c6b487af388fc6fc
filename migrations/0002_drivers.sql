-- Drivers and the tokens their phone app authenticates with. Owned by dispatch/.

CREATE TABLE drivers (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    suspended_reason text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE driver_tokens (
    id           bigserial PRIMARY KEY,
    driver_id    bigint NOT NULL REFERENCES drivers (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,  -- sha256 of the token; shown to the admin once, never stored
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
-- A driver has one phone, so at most one live token: issuing a new one revokes the old.
CREATE UNIQUE INDEX driver_tokens_one_live ON driver_tokens (driver_id) WHERE revoked_at IS NULL;
