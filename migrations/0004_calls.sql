-- The call log: every call the PBX reported, from ringing to its end. Owned by callcenter/.

CREATE TABLE calls (
    id                  bigserial PRIMARY KEY,
    pbx_call_id         text NOT NULL CHECK (length(pbx_call_id) BETWEEN 1 AND 200),  -- e.g. Asterisk's Linkedid
    source              text NOT NULL CHECK (source IN ('webhook', 'ami')),
    caller_raw          text CHECK (length(caller_raw) <= 80),
    caller_e164         text,
    caller_status       text NOT NULL CHECK (caller_status IN ('number', 'withheld', 'invalid')),
    caller_name         text CHECK (length(caller_name) <= 200),  -- the name the PBX showed, if any
    dialled             text CHECK (length(dialled) <= 80),       -- the number or trunk the caller dialled
    ringing_extensions  text[] NOT NULL DEFAULT '{}',
    answered_extension  text,
    operator_id         bigint REFERENCES staff_users (id),       -- who answered
    subscriber_id       bigint REFERENCES subscribers (id),       -- set when exactly one subscriber matched
    ringing_at          timestamptz NOT NULL,
    answered_at         timestamptz,
    ended_at            timestamptz,
    end_cause           text CHECK (end_cause IN ('normal', 'abandoned', 'busy', 'no_answer', 'failed')),
    callback_handled_at timestamptz,
    callback_handled_by bigint REFERENCES staff_users (id),
    created_at          timestamptz NOT NULL DEFAULT now()
);
-- One row per PBX call, so a retried webhook or a replayed AMI event updates instead of duplicating.
CREATE UNIQUE INDEX calls_pbx_call_key ON calls (source, pbx_call_id);
CREATE INDEX calls_ringing_at_idx ON calls (ringing_at DESC);
CREATE INDEX calls_caller_idx ON calls (caller_e164, ringing_at DESC);
CREATE INDEX calls_subscriber_idx ON calls (subscriber_id, ringing_at DESC);
-- The call-back list: calls never answered and not yet handled.
CREATE INDEX calls_callback_idx ON calls (ringing_at DESC)
    WHERE answered_at IS NULL AND ended_at IS NOT NULL AND callback_handled_at IS NULL;

-- An extension is one desk phone: at most one operator sits at it at a time (the console claims it).
CREATE UNIQUE INDEX staff_users_extension_key ON staff_users (extension) WHERE extension IS NOT NULL;
