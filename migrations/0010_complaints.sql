-- Complaints as cases: an editable taxonomy, the cases, and the history of every change. Owned by feedback/.

-- The taxonomy is data, not code: supervisors rename, reorder, add and retire categories without a release.
CREATE TABLE complaint_categories (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),  -- stable: the API and reports use it
    name_en          text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
    name_fa          text NOT NULL CHECK (length(name_fa) BETWEEN 1 AND 100),
    -- The priority a new complaint of this kind gets unless the operator chooses another.
    default_priority text NOT NULL DEFAULT 'normal' CHECK (default_priority IN ('low', 'normal', 'high', 'urgent')),
    position         smallint NOT NULL DEFAULT 0,  -- the order pickers list them in
    -- A retired category keeps its complaints (and their reports) but takes no new ones.
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO complaint_categories (code, name_en, name_fa, default_priority, position) VALUES
    ('late_pickup',        'Late pickup',                 'تأخیر در رسیدن راننده',       'normal', 10),
    ('driver_no_show',     'Driver no-show',              'نیامدن راننده',               'high',   20),
    ('rude_driver',        'Rude driver',                 'بدرفتاری راننده',             'normal', 30),
    ('unsafe_driving',     'Unsafe driving',              'رانندگی پرخطر',               'high',   40),
    ('fare_dispute',       'Overcharge or fare dispute',  'کرایهٔ اضافه یا اختلاف کرایه', 'normal', 50),
    ('wrong_route',        'Wrong route',                 'مسیر نادرست',                 'normal', 60),
    ('vehicle_condition',  'Vehicle condition',           'وضعیت خودرو',                 'low',    70),
    ('lost_item',          'Lost item',                   'جاماندن وسیله',               'high',   80),
    ('operator_behaviour', 'Operator behaviour',          'رفتار اپراتور',               'normal', 90),
    ('other',              'Other',                       'سایر',                        'normal', 100);

CREATE TABLE complaints (
    id                bigserial PRIMARY KEY,  -- also the case number told to the customer
    category          text NOT NULL REFERENCES complaint_categories (code),
    priority          text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    channel           text NOT NULL CHECK (channel IN ('phone', 'customer_page', 'social_media', 'other')),
    status            text NOT NULL DEFAULT 'new'
                          CHECK (status IN ('new', 'assigned', 'pending', 'resolved', 'rejected', 'duplicate')),
    description       text NOT NULL CHECK (length(description) BETWEEN 1 AND 4000),
    -- What the complaint concerns, where known. A complaint about a ride takes its subscriber and driver from it.
    ride_id           bigint REFERENCES rides (id),
    subscriber_id     bigint REFERENCES subscribers (id),
    driver_id         bigint REFERENCES drivers (id),
    call_id           bigint REFERENCES calls (id),          -- the call the complaint came in on
    operator_id       bigint REFERENCES staff_users (id),    -- an operator the complaint is about (their behaviour)
    opened_by         bigint REFERENCES staff_users (id),    -- who recorded it; NULL only from the customer page
    -- The case as it is handled (see feedback/complaints.py for the workflow).
    assignee_id       bigint REFERENCES staff_users (id),
    outcome           text CHECK (outcome IN ('no_action', 'warning', 'refund', 'driver_suspended')),
    outcome_note      text CHECK (length(outcome_note) BETWEEN 1 AND 2000),
    duplicate_of      bigint REFERENCES complaints (id),
    -- The SLA clocks: the first response to the customer, and the case's close.
    first_response_at timestamptz,
    closed_at         timestamptz,
    -- Bumped by every change, so a conditional UPDATE notices any concurrent writer.
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CHECK (channel = 'customer_page' OR opened_by IS NOT NULL),
    CONSTRAINT complaints_assigned_has_assignee CHECK (status <> 'assigned' OR assignee_id IS NOT NULL),
    CONSTRAINT complaints_closed_at CHECK ((status IN ('resolved', 'rejected', 'duplicate')) = (closed_at IS NOT NULL)),
    CONSTRAINT complaints_outcome_when_resolved CHECK ((status = 'resolved') = (outcome IS NOT NULL)),
    CONSTRAINT complaints_duplicate_of CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL)
                                              AND duplicate_of IS DISTINCT FROM id)
);
-- The screen-pop's open complaints and the subscriber page's list.
CREATE INDEX complaints_subscriber_idx ON complaints (subscriber_id, created_at DESC);
CREATE INDEX complaints_ride_idx ON complaints (ride_id) WHERE ride_id IS NOT NULL;
CREATE INDEX complaints_driver_idx ON complaints (driver_id, created_at DESC) WHERE driver_id IS NOT NULL;
-- The queue of cases still to handle.
CREATE INDEX complaints_open_idx ON complaints (created_at) WHERE status IN ('new', 'assigned', 'pending');
CREATE INDEX complaints_created_idx ON complaints (created_at);

-- A complaint's history: every change and comment, never updated or deleted.
CREATE TABLE complaint_events (
    id           bigserial PRIMARY KEY,
    complaint_id bigint NOT NULL REFERENCES complaints (id),
    kind         text NOT NULL CHECK (kind IN ('opened', 'commented', 'status_changed', 'assigned', 'outcome_set',
                                               'subscriber_merged')),
    actor_kind   text NOT NULL CHECK (actor_kind IN ('staff', 'customer', 'system')),
    actor_id     bigint,  -- the staff account or the subscriber; NULL for the system
    from_status  text CHECK (from_status IN ('new', 'assigned', 'pending', 'resolved', 'rejected', 'duplicate')),
    to_status    text CHECK (to_status IN ('new', 'assigned', 'pending', 'resolved', 'rejected', 'duplicate')),
    body         text CHECK (length(body) BETWEEN 1 AND 4000),  -- a comment's text
    details      jsonb,  -- what else changed: the assignee, the outcome, the subscribers of a merge
    at           timestamptz NOT NULL,
    CHECK ((actor_kind = 'system') = (actor_id IS NULL)),
    CHECK (kind <> 'commented' OR body IS NOT NULL),
    CHECK (kind <> 'status_changed' OR (from_status IS NOT NULL AND to_status IS NOT NULL))
);
CREATE INDEX complaint_events_complaint_idx ON complaint_events (complaint_id, at, id);
