-- Staff accounts (operators, supervisors, admins) and their login sessions. Owned by callcenter/.

CREATE TABLE staff_users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[a-z0-9._-]{2,64}$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN ('operator', 'supervisor', 'admin')),
    password_hash text NOT NULL,
    extension     text CHECK (extension ~ '^[0-9]{1,10}$'),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
-- Usernames are stored lower-cased; the unique index makes "Ali" and "ali" one account.
CREATE UNIQUE INDEX staff_users_username_key ON staff_users (username);

CREATE TABLE staff_sessions (
    token_hash   bytea PRIMARY KEY,  -- sha256 of the session token; the token itself is never stored
    user_id      bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    user_agent   text,
    remote_addr  text
);
CREATE INDEX staff_sessions_user_idx ON staff_sessions (user_id);
CREATE INDEX staff_sessions_expires_idx ON staff_sessions (expires_at);
