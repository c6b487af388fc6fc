"""SQL of one month's calls: the ones tied to rides and cases, the others, and their rows."""

# The calls tied to rides and cases: bookings, attempts given up before them, cancellations, "where is my car",
# complaints. src: 1 booking, 2 abandoned before a booking, 3 cancellation, 4 follow-up, 5 complaint, 6 other.
MONTH_RIDE_CALLS = """
DROP TABLE IF EXISTS c0, c;
CREATE TEMP TABLE c0 AS
WITH bk AS (
    SELECT r.k, r.subscriber_id, r.phone, r.booked_by, r.booked_ext, r.local_hour, r.booked_at,
        r.booked_at - ((30 + 40 * exp(0.45 * bench_gen.z(r.k, 71))) * r.op_speed
                       + least(240, r.wait_med * exp(0.8 * bench_gen.z(r.k, 70)))) * interval '1 second' AS ringing_at,
        r.booked_at - (30 + 40 * exp(0.45 * bench_gen.z(r.k, 71))) * r.op_speed * interval '1 second' AS answered_at,
        bench_gen.u(r.k, 75) < r.p_pre_ab AS tried_before
    FROM r2 r WHERE NOT r.online
)
SELECT 1 AS src, k AS key, ringing_at, answered_at, booked_at + (5 + 25 * bench_gen.u(k, 72)) * interval '1 second'
        AS ended_at, 'normal' AS end_cause, phone, subscriber_id, booked_by AS operator_id, booked_ext AS extension,
    local_hour AS op_hour, 0.0::double precision AS op_u, NULL::timestamptz AS cb_at, NULL::bigint AS cb_by
FROM bk
UNION ALL
SELECT 2, k, ringing_at - (60 + 180 * bench_gen.u(k, 76)) * interval '1 second', NULL,
    ringing_at - (60 + 180 * bench_gen.u(k, 76) - 8 - 50 * bench_gen.u(k, 77)) * interval '1 second', 'abandoned',
    phone, subscriber_id, NULL, NULL, local_hour, bench_gen.u(k, 79),
    CASE WHEN bench_gen.u(k, 78) < 0.5 THEN answered_at END, CASE WHEN bench_gen.u(k, 78) < 0.5 THEN booked_by END
FROM bk WHERE tried_before
UNION ALL
SELECT 3, r.k,
    r.cancel_at - (20 + 40 * bench_gen.u(r.k, 83) + least(240, r.wait_med * exp(0.8 * bench_gen.z(r.k, 80))))
        * interval '1 second',
    r.cancel_at - (20 + 40 * bench_gen.u(r.k, 83)) * interval '1 second',
    r.cancel_at + (5 + 15 * bench_gen.u(r.k, 84)) * interval '1 second', 'normal',
    r.phone, r.subscriber_id, x.by_id, x.extension, 0, 0.0, NULL, NULL
FROM r2 r JOIN rc x USING (k) WHERE x.cancelled_by_kind = 'operator'
UNION ALL
SELECT 4, k, assigned_at + travel_s * (0.4 + 0.5 * bench_gen.u(k, 82)) * interval '1 second',
    assigned_at + (travel_s * (0.4 + 0.5 * bench_gen.u(k, 82)) + least(240, wait_med * exp(0.8 * bench_gen.z(k, 85))))
        * interval '1 second',
    assigned_at + (travel_s * (0.4 + 0.5 * bench_gen.u(k, 82)) + least(240, wait_med * exp(0.8 * bench_gen.z(k, 85)))
                   + 15 + 45 * bench_gen.u(k, 86)) * interval '1 second', 'normal',
    phone, subscriber_id, NULL, NULL,
    extract(hour FROM (assigned_at + travel_s * (0.4 + 0.5 * bench_gen.u(k, 82)) * interval '1 second')
                      AT TIME ZONE ${tz})::int, bench_gen.u(k, 87), NULL, NULL
FROM r2 WHERE accepted AND bench_gen.u(k, 81) < CASE WHEN travel_s > 600 THEN 0.35 ELSE 0.08 END
UNION ALL
SELECT 5, k, created_at - (60 + 120 * bench_gen.u(k, 88) + 4 + 30 * bench_gen.u(k, 108)) * interval '1 second',
    created_at - (60 + 120 * bench_gen.u(k, 88)) * interval '1 second',
    created_at + (30 + 200 * bench_gen.u(k, 89)) * interval '1 second', 'normal', phone, subscriber_id, NULL, NULL,
    extract(hour FROM created_at AT TIME ZONE ${tz})::int, bench_gen.u(k, 110), NULL, NULL
FROM cm WHERE channel = 'phone';
"""

# Calls that lead to no ride: questions, wrong numbers, callers who give up (more at the peaks), busy lines.
MONTH_OTHER_CALLS = """
INSERT INTO c0
SELECT 6, x.key, x.ringing_at,
    CASE WHEN x.outcome = 'normal' THEN x.ringing_at + x.wait * interval '1 second' END,
    CASE x.outcome WHEN 'normal' THEN x.ringing_at + (x.wait + 25 + 60 * exp(0.6 * bench_gen.z(x.key, 124)))
                                          * interval '1 second'
                   WHEN 'abandoned' THEN x.ringing_at + (5 + 85 * bench_gen.u(x.key, 122)) * interval '1 second'
                   ELSE x.ringing_at + (1 + 30 * bench_gen.u(x.key, 122)) * interval '1 second' END,
    x.outcome,
    CASE WHEN x.who < 0.62 THEN s.e164 WHEN x.who < 0.67 THEN NULL
         ELSE '+98' || CASE WHEN bench_gen.u(x.key, 130) < 0.5 THEN '901' ELSE '990' END
              || lpad(floor(bench_gen.u(x.key, 131) * 3000000)::text, 7, '0') END,
    CASE WHEN x.who < 0.62 THEN s.id END, NULL, NULL, x.local_hour, bench_gen.u(x.key, 129),
    CASE WHEN x.outcome <> 'normal' AND bench_gen.u(x.key, 127) < 0.55
         THEN x.ringing_at + (200 + 1080 * bench_gen.u(x.key, 128)) * interval '1 second' END,
    NULL
FROM (
    SELECT ${m}::bigint * 1000000000 + sl.first + j AS key, sl.local_hour,
        sl.starts_at + 3600 * bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 120) * interval '1 second' AS
            ringing_at,
        least(240, sl.wait_med * exp(0.8 * bench_gen.z(${m}::bigint * 1000000000 + sl.first + j, 123))) AS wait,
        CASE WHEN bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 121) < sl.p_ab THEN 'abandoned'
             WHEN bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 121) < sl.p_ab + 0.005 THEN 'busy'
             WHEN bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 121) < sl.p_ab + 0.012 THEN 'no_answer'
             WHEN bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 121) < sl.p_ab + 0.015 THEN 'failed'
             ELSE 'normal' END AS outcome,
        bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 125) AS who,
        floor(bench_gen.u(${m}::bigint * 1000000000 + sl.first + j, 126) * ${tickets})::int AS ticket
    FROM (SELECT s.*, floor(${others} * s.cw_lo)::bigint AS first,
                 (floor(${others} * s.cw_hi) - floor(${others} * s.cw_lo))::int AS n
          FROM bench_gen.slot s WHERE s.month = ${m}) sl
    CROSS JOIN LATERAL generate_series(1, sl.n) j
) x
LEFT JOIN tix t ON x.who < 0.62 AND t.t = x.ticket
LEFT JOIN bench_gen.subscriber s ON s.id = t.subscriber_id;
"""

# Every call gets its number in ringing order and the operator whose desk it rang at.
MONTH_NUMBER_CALLS = """
CREATE TEMP TABLE c AS
SELECT ${call_base} + row_number() OVER (ORDER BY c0.ringing_at, c0.src, c0.key) AS id,
    c0.src, c0.key, c0.ringing_at, c0.answered_at, c0.ended_at, c0.end_cause, c0.phone, c0.subscriber_id,
    CASE WHEN c0.answered_at IS NOT NULL THEN coalesce(c0.operator_id, p.staff_id) END AS operator_id,
    coalesce(c0.extension, p.extension) AS extension,
    CASE WHEN c0.cb_at < ${end_at}::timestamptz THEN c0.cb_at END AS cb_at,
    CASE WHEN c0.cb_at < ${end_at}::timestamptz THEN coalesce(c0.cb_by, p.staff_id) END AS cb_by
FROM c0
LEFT JOIN bench_gen.op_pool p ON c0.extension IS NULL AND p.hour = c0.op_hour
    AND p.idx = floor(c0.op_u * (${pool_sizes})[c0.op_hour + 1])::int;
DROP TABLE c0;
CREATE INDEX ON c (src, key);
ANALYZE c (src, key);
"""

MONTH_WRITE_CALLS = """
INSERT INTO calls (id, pbx_call_id, source, caller_raw, caller_e164, caller_status, dialled, ringing_extensions,
                   answered_extension, operator_id, subscriber_id, ringing_at, answered_at, ended_at, end_cause,
                   callback_handled_at, callback_handled_by, created_at)
SELECT id, floor(extract(epoch FROM ringing_at))::bigint || '.' || id, 'ami',
    CASE WHEN phone IS NULL THEN 'anonymous' WHEN phone LIKE '+9821%' THEN substr(phone, 6)
         ELSE '0' || substr(phone, 4) END,
    phone, CASE WHEN phone IS NULL THEN 'withheld' ELSE 'number' END, '133', ARRAY[extension],
    CASE WHEN answered_at IS NOT NULL THEN extension END, operator_id, subscriber_id, ringing_at, answered_at,
    ended_at, end_cause, cb_at, cb_by, ringing_at
FROM c ORDER BY id;
"""
