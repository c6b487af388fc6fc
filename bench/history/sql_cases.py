"""SQL of one month's complaints, praise and ratings, and of the history's last touches."""

# Complaints and praise about this month's rides, as cases at the stage they have reached by the history's end.
MONTH_CASES = """
CREATE TEMP TABLE cm AS
SELECT h.*,
    ${complaint_base} + row_number() OVER (ORDER BY h.created_at, h.k) AS id,
    CASE WHEN h.t_assign >= ${end_at}::timestamptz THEN 'new'
         WHEN h.t_close >= ${end_at}::timestamptz THEN CASE WHEN bench_gen.u(h.k, 97) < 0.3 THEN 'pending' ELSE
             'assigned' END
         WHEN h.kind = 'praise' THEN 'resolved'
         WHEN bench_gen.u(h.k, 96) < 0.78 THEN 'resolved'
         WHEN bench_gen.u(h.k, 96) < 0.95 THEN 'rejected' ELSE 'duplicate' END AS status
FROM (
    SELECT g.*, clocks.fr_minutes, clocks.res_hours,
        g.created_at + clocks.fr_minutes * 0.5 * exp(0.9 * bench_gen.z(g.k, 94)) * interval '1 minute' AS t_assign,
        g.created_at + clocks.fr_minutes * 0.5 * exp(0.9 * bench_gen.z(g.k, 94)) * interval '1 minute'
            + CASE WHEN g.kind = 'praise' THEN 12 * bench_gen.u(g.k, 95)
                   ELSE clocks.res_hours * 0.35 * exp(0.8 * bench_gen.z(g.k, 95)) END * interval '1 hour' AS t_close
    FROM (
        SELECT f.*, k.kind, k.default_priority,
            CASE WHEN bench_gen.u(f.k, 98) < 0.1 AND k.kind = 'complaint'
                 THEN CASE k.default_priority WHEN 'low' THEN 'normal' WHEN 'normal' THEN 'high' ELSE 'urgent' END
                 ELSE k.default_priority END AS priority,
            CASE WHEN f.channel0 = 'customer_page' AND f.subscriber_id IS NULL THEN 'phone' ELSE f.channel0 END AS
                channel
        FROM (
            SELECT e.*,
                CASE WHEN e.is_praise THEN (${praise_codes})[width_bucket(bench_gen.u(e.k, 99), ${praise_cum})]
                     WHEN e.ride_status = 'completed' AND e.travel_s > 900 AND bench_gen.u(e.k, 99) < 0.6 THEN
                         'late_pickup'
                     WHEN e.ride_status = 'completed' THEN (${done_codes})[width_bucket(bench_gen.u(e.k, 100),
                         ${done_cum})]
                     WHEN e.ride_status = 'cancelled' THEN (${cancel_codes})[width_bucket(bench_gen.u(e.k, 100),
                         ${cancel_cum})]
                     WHEN e.ride_status = 'no_show' THEN (${noshow_codes})[width_bucket(bench_gen.u(e.k, 100),
                         ${noshow_cum})]
                     ELSE (${nd_codes})[width_bucket(bench_gen.u(e.k, 100), ${nd_cum})] END AS category,
                e.ended_at + least(864000, 300 + 10800 * exp(1.2 * bench_gen.z(e.k, 92))) * interval '1 second'
                    AS created_at,
                CASE WHEN bench_gen.u(e.k, 93) < 0.62 THEN 'phone' WHEN bench_gen.u(e.k, 93) < 0.84 THEN 'customer_page'
                     WHEN bench_gen.u(e.k, 93) < 0.95 THEN 'social_media' ELSE 'other' END AS channel0
            FROM (
                SELECT r.k, r.status AS ride_status, r.stage, r.subscriber_id, r.driver_id, r.booked_by, r.travel_s,
                    r.ended_at,
                    r.phone, r.walk_in,
                    bench_gen.u(r.k, 90) >= ${complaint_rate} * coalesce(dv.badness, 1)
                        * CASE r.status WHEN 'completed' THEN CASE WHEN r.travel_s > 900 THEN 3 ELSE 1 END
                                        WHEN 'cancelled' THEN CASE WHEN r.stage IN ('assigned', 'arrived') THEN 3
                                            ELSE 1 END
                                        WHEN 'no_show' THEN 2 ELSE 1.5 END AS is_praise
                FROM r2 r LEFT JOIN bench_gen.driver dv ON dv.id = r.driver_id
                WHERE bench_gen.u(r.k, 90) < ${complaint_rate} * coalesce(dv.badness, 1)
                        * CASE r.status WHEN 'completed' THEN CASE WHEN r.travel_s > 900 THEN 3 ELSE 1 END
                                        WHEN 'cancelled' THEN CASE WHEN r.stage IN ('assigned', 'arrived') THEN 3
                                            ELSE 1 END
                                        WHEN 'no_show' THEN 2 ELSE 1.5 END
                   OR (r.status = 'completed'
                       AND bench_gen.u(r.k, 91) < ${praise_rate} / coalesce(dv.badness, 1))
                OFFSET 0
            ) e
            OFFSET 0
        ) f
        JOIN complaint_categories k ON k.code = f.category
    ) g
    CROSS JOIN LATERAL (SELECT
        CASE g.priority WHEN 'urgent' THEN ${fr_urgent} WHEN 'high' THEN ${fr_high} WHEN 'normal' THEN ${fr_normal}
             ELSE ${fr_low} END AS fr_minutes,
        CASE g.priority WHEN 'urgent' THEN ${res_urgent} WHEN 'high' THEN ${res_high} WHEN 'normal' THEN ${res_normal}
             ELSE ${res_low} END AS res_hours) clocks
    WHERE g.created_at < ${end_at}::timestamptz
) h;
"""


# The cases' final rows and their histories (feedback/service.py's events: opened, assigned, commented,
# status_changed, outcome_set).
MONTH_CASE_WRITE = """
DROP TABLE IF EXISTS ck;
CREATE TEMP TABLE ck AS
SELECT y.*,
    1 + (y.status <> 'new')::int + y.went_pending::int + (y.comment_at IS NOT NULL)::int + (y.closed_at IS NOT
        NULL)::int
        AS version,
    greatest(y.created_at, CASE WHEN y.status <> 'new' THEN y.t_assign END, y.pending_at, y.comment_at, y.closed_at)
        AS updated_at
FROM (
    SELECT x.*,
        CASE WHEN x.status IN ('resolved', 'rejected', 'duplicate') THEN x.t_close END AS closed_at,
        CASE WHEN x.status = 'pending' OR (x.status IN ('resolved', 'rejected', 'duplicate')
                                           AND bench_gen.u(x.k, 113) < 0.2) THEN true ELSE false END AS went_pending,
        CASE WHEN x.status = 'pending' OR (x.status IN ('resolved', 'rejected', 'duplicate')
                                           AND bench_gen.u(x.k, 113) < 0.2)
             THEN x.t_assign + (least(x.t_close, ${end_at}::timestamptz) - x.t_assign) * 0.4 END AS pending_at,
        CASE WHEN x.status <> 'new' AND bench_gen.u(x.k, 114) < 0.4
             THEN x.t_assign + (least(x.t_close, ${end_at}::timestamptz) - x.t_assign) * 0.7 END AS comment_at,
        CASE WHEN x.status = 'resolved' THEN
             CASE WHEN x.kind = 'praise' THEN CASE WHEN bench_gen.u(x.k, 111) < 0.85 THEN 'commended' ELSE
                 'no_action' END
                  WHEN bench_gen.u(x.k, 111) < 0.35 THEN 'no_action' WHEN bench_gen.u(x.k, 111) < 0.77 THEN 'warning'
                  ELSE 'refund' END END AS outcome
    FROM (
        SELECT cm.id, cm.k, cm.category, cm.kind, cm.priority, cm.channel, cm.subscriber_id, cm.driver_id,
            cm.booked_by, cm.created_at, cm.t_assign, cm.t_close,
            CASE WHEN cm.status = 'duplicate' AND cm.id <= ${complaint_base} + 3 THEN 'rejected' ELSE cm.status END
                AS status,
            cm.created_at + cm.fr_minutes * interval '1 minute' AS fr_due,
            cm.created_at + cm.res_hours * interval '1 hour' AS res_due,
            cc.id AS call_id,
            CASE cm.channel WHEN 'phone' THEN cc.operator_id WHEN 'customer_page' THEN NULL
                 ELSE (${supervisors})[1 + floor(bench_gen.u(cm.k, 115) * ${n_supervisors})::int] END AS opened_by,
            (${supervisors})[1 + floor(bench_gen.u(cm.k, 116) * ${n_supervisors})::int] AS assignee_id,
            (${supervisors})[1 + floor(bench_gen.u(cm.k, 117) * ${n_supervisors})::int] AS assigner_id
        FROM cm LEFT JOIN c cc ON cc.src = 5 AND cc.key = cm.k
    ) x
) y;

INSERT INTO complaints (id, category, kind, priority, channel, status, description, ride_id, subscriber_id, driver_id,
                        call_id, operator_id, opened_by, assignee_id, outcome, outcome_note, duplicate_of,
                        first_response_at, closed_at, version, created_at, updated_at, first_response_due,
                        resolution_due)
SELECT id, category, kind, priority, channel, status,
    (${descriptions}::jsonb -> category ->> floor(bench_gen.u(k, 118) * 3)::int) || ' (سفر ' || (k + 1) || ')',
    k + 1, subscriber_id, driver_id, call_id,
    CASE WHEN category IN ('operator_behaviour', 'helpful_operator') THEN booked_by END,
    opened_by, CASE WHEN status <> 'new' THEN assignee_id END, outcome,
    CASE WHEN outcome IS NOT NULL THEN ${outcome_notes}::jsonb ->> outcome END,
    CASE WHEN status = 'duplicate' THEN id - 1 - floor(bench_gen.u(k, 112) * 3)::int END,
    CASE WHEN status <> 'new' THEN t_assign END, closed_at, version, created_at, updated_at,
    CASE WHEN kind = 'complaint' THEN fr_due END, CASE WHEN kind = 'complaint' THEN res_due END
FROM ck ORDER BY id;

INSERT INTO complaint_events (complaint_id, kind, actor_kind, actor_id, from_status, to_status, body, details, at)
SELECT complaint_id, kind, actor_kind, actor_id, from_status, to_status, body, details, at FROM (
    SELECT id AS complaint_id, 1 AS seq, 'opened' AS kind,
        CASE WHEN channel = 'customer_page' THEN 'customer' ELSE 'staff' END AS actor_kind,
        CASE WHEN channel = 'customer_page' THEN subscriber_id ELSE opened_by END AS actor_id,
        NULL AS from_status, 'new' AS to_status, NULL AS body, NULL::jsonb AS details, created_at AS at
    FROM ck
    UNION ALL
    SELECT ck.id, 2, 'assigned', 'staff', ck.assigner_id, 'new', 'assigned', NULL,
        jsonb_build_object('assignee_id', ck.assignee_id, 'assignee_name', u.display_name,
                           'previous_assignee_id', NULL), ck.t_assign
    FROM ck JOIN staff_users u ON u.id = ck.assignee_id WHERE ck.status <> 'new'
    UNION ALL
    SELECT id, 3, 'status_changed', 'staff', assignee_id, 'assigned', 'pending', NULL, NULL, pending_at
    FROM ck WHERE went_pending
    UNION ALL
    SELECT id, 4, 'commented', 'staff', assignee_id, NULL, NULL,
        (${comments})[1 + floor(bench_gen.u(k, 119) * ${n_comments})::int], NULL, comment_at
    FROM ck WHERE comment_at IS NOT NULL
    UNION ALL
    SELECT id, 5, 'status_changed', 'staff', assignee_id, CASE WHEN went_pending THEN 'pending' ELSE 'assigned' END,
        status, NULL,
        CASE WHEN status = 'duplicate' THEN jsonb_build_object('duplicate_of', id - 1 - floor(bench_gen.u(k, 112) *
            3)::int)
             END, closed_at
    FROM ck WHERE closed_at IS NOT NULL
    UNION ALL
    SELECT id, 6, 'outcome_set', 'staff', assignee_id, NULL, NULL, NULL,
        jsonb_build_object('outcome', outcome, 'outcome_note', ${outcome_notes}::jsonb ->> outcome), closed_at
    FROM ck WHERE outcome IS NOT NULL
) e
ORDER BY at, complaint_id, seq;
"""

# Ratings of completed rides: the customer page right after, the link sent after the ride, or an operator on a
# follow-up call; a few rated twice (the earlier kept as history).
MONTH_RATINGS = """
INSERT INTO ride_ratings (ride_id, driver_id, subscriber_id, value, comment, channel, entered_by, is_current,
                          replaced_at, created_at)
SELECT x.ride_id, x.driver_id, x.subscriber_id, x.value, x.comment, x.channel,
    CASE WHEN x.channel = 'operator' THEN p.staff_id END, x.is_current, x.replaced_at, x.created_at
FROM (
    SELECT v.*, greatest(1, least(5, v.value0 + CASE WHEN v.value0 >= 4 THEN -1 ELSE 1 END))::smallint AS value,
        false AS is_current, v.created_at + (3600 + 172800 * bench_gen.u(v.k, 106)) * interval '1 second' AS replaced_at
    FROM (SELECT * FROM rated WHERE twice) v
    UNION ALL
    SELECT v.*, v.value0, true, NULL
    FROM rated v
) x
LEFT JOIN bench_gen.op_pool p ON x.channel = 'operator'
    AND p.hour = extract(hour FROM x.created_at AT TIME ZONE ${tz})::int
    AND p.idx = floor(bench_gen.u(x.k, 107) * (${pool_sizes})[extract(hour FROM x.created_at AT TIME ZONE ${tz})::int
        + 1])::int
WHERE x.created_at < ${end_at}::timestamptz AND (x.replaced_at IS NULL OR x.replaced_at < ${end_at}::timestamptz)
ORDER BY x.created_at;
"""
RATED = """
DROP TABLE IF EXISTS rated;
CREATE TEMP TABLE rated AS
SELECT y.*,
    CASE WHEN y.twice THEN y.first_at + (3600 + 172800 * bench_gen.u(y.k, 106)) * interval '1 second'
         ELSE y.first_at END AS created_at
FROM (
    SELECT r.k, r.k + 1 AS ride_id, r.driver_id, r.subscriber_id,
        greatest(1, least(5, round(dv.rating_mean + 0.9 * bench_gen.z(r.k, 101)
                                   - CASE WHEN r.travel_s > 900 THEN 1.2 ELSE 0 END)))::smallint AS value0,
        CASE WHEN bench_gen.u(r.k, 102) < 0.25 THEN (${rating_comments})[
            least(5, greatest(1, round(dv.rating_mean + 0.9 * bench_gen.z(r.k, 101)
                                       - CASE WHEN r.travel_s > 900 THEN 1.2 ELSE 0 END)))::int] END AS comment,
        CASE WHEN r.online THEN 'customer_page' WHEN bench_gen.u(r.k, 103) < 0.85 THEN 'link' ELSE 'operator' END
            AS channel,
        r.finished_at + CASE WHEN r.online THEN 120 + 1700 * bench_gen.u(r.k, 104)
                             WHEN bench_gen.u(r.k, 103) < 0.85 THEN 600 + 172800 * bench_gen.u(r.k, 104) ^ 2
                             ELSE 86400 + 172800 * bench_gen.u(r.k, 104) END * interval '1 second' AS first_at,
        bench_gen.u(r.k, 105) < 0.02 AS twice
    FROM r2 r JOIN bench_gen.driver dv ON dv.id = r.driver_id
    WHERE r.status = 'completed' AND bench_gen.u(r.k, 100) < CASE WHEN r.online THEN 0.4 ELSE 0.14 END
) y;
"""

# Counters the screen-pop ranks addresses by, and subscriber records that must predate their first call or ride.
MONTH_SUBSCRIBERS = """
INSERT INTO bench_gen.addr_use (address_id, hour, pickups, dropoffs, last_used)
SELECT address_id, hour, sum(p), sum(d), max(at) FROM (
    SELECT p_address AS address_id, local_hour AS hour, 1 AS p, 0 AS d, booked_at AS at FROM r2 WHERE p_address IS
        NOT NULL
    UNION ALL
    SELECT d_address, local_hour, 0, 1, booked_at FROM r2 WHERE d_address IS NOT NULL
) x GROUP BY 1, 2;
INSERT INTO bench_gen.first_seen (subscriber_id, at)
SELECT subscriber_id, min(at) FROM (
    SELECT subscriber_id, booked_at AS at FROM r2 WHERE subscriber_id IS NOT NULL
    UNION ALL
    SELECT subscriber_id, ringing_at FROM c WHERE subscriber_id IS NOT NULL
) x GROUP BY 1;
"""

FINISH = """
CREATE TEMP TABLE firsts AS
SELECT subscriber_id, min(at) - interval '1 minute' AS at FROM bench_gen.first_seen GROUP BY 1;
UPDATE subscribers s SET created_at = f.at, updated_at = f.at,
    blocked_at = CASE WHEN s.blocked_at IS NOT NULL THEN f.at END
FROM firsts f WHERE s.id = f.subscriber_id AND f.at < s.created_at;
UPDATE subscriber_phones p SET created_at = f.at FROM firsts f
WHERE p.subscriber_id = f.subscriber_id AND f.at < p.created_at;
UPDATE subscriber_addresses a SET created_at = f.at, updated_at = f.at FROM firsts f
WHERE a.subscriber_id = f.subscriber_id AND f.at < a.created_at;
WITH per AS (
    SELECT address_id, sum(pickups)::int AS pickups, sum(dropoffs)::int AS dropoffs, max(last_used) AS last_used
    FROM bench_gen.addr_use GROUP BY address_id
), hours AS (
    SELECT per.address_id, array_agg(coalesce(u.pickups, 0) ORDER BY g) AS by_hour
    FROM per CROSS JOIN generate_series(0, 23) g
    LEFT JOIN (SELECT address_id, hour, sum(pickups)::int AS pickups FROM bench_gen.addr_use GROUP BY 1, 2) u
        ON u.address_id = per.address_id AND u.hour = g
    GROUP BY per.address_id
)
UPDATE subscriber_addresses a SET pickup_count = per.pickups, dropoff_count = per.dropoffs,
    last_used_at = per.last_used, pickups_by_hour = hours.by_hour
FROM per JOIN hours USING (address_id)
WHERE a.id = per.address_id;
SELECT setval('rides_id_seq', greatest(1, (SELECT max(id) FROM rides)));
SELECT setval('calls_id_seq', greatest(1, (SELECT max(id) FROM calls)));
SELECT setval('ride_offers_id_seq', greatest(1, (SELECT max(id) FROM ride_offers)));
SELECT setval('complaints_id_seq', greatest(1, (SELECT max(id) FROM complaints)));
SELECT setval('subscribers_id_seq', greatest(1, (SELECT max(id) FROM subscribers)));
SELECT setval('subscriber_addresses_id_seq', greatest(1, (SELECT max(id) FROM subscriber_addresses)));
SELECT setval('drivers_id_seq', greatest(1, (SELECT max(id) FROM drivers)));
SELECT setval('staff_users_id_seq', greatest(1, (SELECT max(id) FROM staff_users)));
DROP TABLE bench_gen.slot, bench_gen.subscriber, bench_gen.driver, bench_gen.op_pool, bench_gen.spot,
    bench_gen.addr_use, bench_gen.first_seen;
"""
