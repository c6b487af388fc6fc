-- Feedback handled as cases: praise beside complaints, SLA clocks, a watermark for reports, and ratings of rides.
-- Owned by feedback/.

-- Praise is recorded like a complaint, under categories of its own, and counted apart from complaints.
ALTER TABLE complaint_categories
    ADD COLUMN kind text NOT NULL DEFAULT 'complaint' CHECK (kind IN ('complaint', 'praise')),
    -- A case's kind is its category's: the pair is what a complaint references, so they never disagree.
    ADD CONSTRAINT complaint_categories_code_kind_key UNIQUE (code, kind);

INSERT INTO complaint_categories (code, name_en, name_fa, default_priority, position, kind) VALUES
    ('courteous_driver',  'Courteous driver',         'رانندهٔ خوش‌برخورد',         'low', 110, 'praise'),
    ('safe_driving',      'Safe, careful driving',    'رانندگی ایمن و بااحتیاط',    'low', 120, 'praise'),
    ('on_time',           'On time',                  'وقت‌شناسی',                  'low', 130, 'praise'),
    ('clean_vehicle',     'Clean, comfortable car',   'خودروی تمیز و راحت',         'low', 140, 'praise'),
    ('helpful_operator',  'Helpful operator',         'اپراتور همراه و کاربلد',     'low', 150, 'praise'),
    ('item_returned',     'Lost item returned',       'بازگرداندن وسیلهٔ جامانده',  'low', 160, 'praise'),
    ('praise_other',      'Other praise',             'سایر قدردانی‌ها',            'low', 170, 'praise');

ALTER TABLE complaints
    ADD COLUMN kind text NOT NULL DEFAULT 'complaint' CHECK (kind IN ('complaint', 'praise')),
    -- The SLA clocks' deadlines, fixed when the case opens from its priority (TAXICRM_COMPLAINT_*): a later
    -- change of the targets applies to new cases, not to those already promised. Praise runs no clock.
    ADD COLUMN first_response_due timestamptz,
    ADD COLUMN resolution_due timestamptz,
    -- The transaction that last changed the row: reports read changes since a watermark of these (see
    -- feedback/reporting.py), which, unlike a timestamp or a sequence, never skips a slow transaction's rows.
    ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

-- Cases opened before the clocks existed get the default targets.
UPDATE complaints SET
    first_response_due = created_at + CASE priority WHEN 'urgent' THEN interval '15 minutes'
        WHEN 'high' THEN interval '1 hour' WHEN 'normal' THEN interval '4 hours' ELSE interval '24 hours' END,
    resolution_due = created_at + CASE priority WHEN 'urgent' THEN interval '8 hours'
        WHEN 'high' THEN interval '24 hours' WHEN 'normal' THEN interval '72 hours' ELSE interval '168 hours' END;

ALTER TABLE complaints
    DROP CONSTRAINT complaints_category_fkey,
    ADD CONSTRAINT complaints_category_fkey FOREIGN KEY (category, kind)
        REFERENCES complaint_categories (code, kind),
    ADD CONSTRAINT complaints_clocks CHECK ((kind = 'complaint') = (first_response_due IS NOT NULL)
                                           AND (kind = 'complaint') = (resolution_due IS NOT NULL)),
    -- Praise is closed with a commendation (the driver or operator is thanked) or with nothing further.
    DROP CONSTRAINT complaints_outcome_check,
    ADD CONSTRAINT complaints_outcome_check CHECK (
        outcome IN ('no_action', 'warning', 'refund', 'driver_suspended', 'commended')),
    ADD CONSTRAINT complaints_outcome_fits_kind CHECK (
        outcome IS NULL OR outcome = 'no_action'
        OR (kind = 'praise') = (outcome = 'commended'));

-- The console's queues: a person's open cases, and open cases by how soon they fall due.
CREATE INDEX complaints_assignee_idx ON complaints (assignee_id, created_at DESC)
    WHERE status IN ('new', 'assigned', 'pending');
CREATE INDEX complaints_due_idx ON complaints (resolution_due) WHERE status IN ('new', 'assigned', 'pending');
CREATE INDEX complaints_changed_idx ON complaints (changed_xid, id);

CREATE FUNCTION feedback_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
-- Every update moves the watermark, whichever statement makes it (a merge, a comment, the workflow).
CREATE TRIGGER complaints_changed BEFORE UPDATE ON complaints
    FOR EACH ROW EXECUTE FUNCTION feedback_mark_changed();

-- Ratings of completed rides, 1 to 5. A ride has one current rating; a later one replaces it and the earlier
-- stays as history (is_current false, replaced_at set).
CREATE TABLE ride_ratings (
    id            bigserial PRIMARY KEY,
    ride_id       bigint NOT NULL REFERENCES rides (id),
    driver_id     bigint NOT NULL REFERENCES drivers (id),     -- the ride's, copied so reports need no join
    subscriber_id bigint REFERENCES subscribers (id),          -- NULL for a walk-in's ride
    value         smallint NOT NULL CHECK (value BETWEEN 1 AND 5),
    comment       text CHECK (length(comment) BETWEEN 1 AND 1000),
    -- customer_page: the tracking page of a self-service ride; link: the signed link sent after the ride;
    -- operator: entered by staff on a follow-up call.
    channel       text NOT NULL CHECK (channel IN ('customer_page', 'link', 'operator')),
    entered_by    bigint REFERENCES staff_users (id),
    call_id       bigint REFERENCES calls (id),                -- the follow-up call it was given on, if known
    is_current    boolean NOT NULL DEFAULT true,
    replaced_at   timestamptz,
    created_at    timestamptz NOT NULL,
    changed_xid   xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((channel = 'operator') = (entered_by IS NOT NULL)),
    CHECK (is_current = (replaced_at IS NULL))
);
CREATE UNIQUE INDEX ride_ratings_current_key ON ride_ratings (ride_id) WHERE is_current;
CREATE INDEX ride_ratings_ride_idx ON ride_ratings (ride_id, created_at);
CREATE INDEX ride_ratings_driver_idx ON ride_ratings (driver_id, created_at) WHERE is_current;
CREATE INDEX ride_ratings_subscriber_idx ON ride_ratings (subscriber_id) WHERE subscriber_id IS NOT NULL;
CREATE INDEX ride_ratings_changed_idx ON ride_ratings (changed_xid, id);
CREATE TRIGGER ride_ratings_changed BEFORE UPDATE ON ride_ratings
    FOR EACH ROW EXECUTE FUNCTION feedback_mark_changed();

-- Keys feedback signs with; shared by every instance through the database, so any instance can check a link
-- another issued. gen_random_uuid draws from the server's strong random source: 244 random bits here.
CREATE TABLE feedback_keys (
    name       text PRIMARY KEY,
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO feedback_keys (name, secret)
VALUES ('rating_link', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
