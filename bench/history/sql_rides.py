"""SQL of one month's rides: who books what when, the offers, the times and fares, and the rides' rows and steps."""

# One month, set-based. ${...} are filled by Python (numbers and literals only, never outside text). Streams of
# bench_gen.u / bench_gen.z are numbered so that no two choices share one.

MONTH_PEOPLE = """
DROP TABLE IF EXISTS tix, dd, ddn, r0, r1, o, oagg, r2, rf, cm, c;
-- Tickets: a subscriber active this month holds as many as their weight, so regulars ride often.
CREATE TEMP TABLE tix AS
    SELECT (row_number() OVER (ORDER BY s.id, g) - 1)::int AS t, s.id AS subscriber_id
    FROM bench_gen.subscriber s CROSS JOIN LATERAL generate_series(1, s.weight) g
    WHERE s.join_month <= ${m} AND s.leave_month >= ${m};
CREATE UNIQUE INDEX ON tix (t);
-- The drivers at work each day, by class, the most reluctant first (failed offers draw from the front).
CREATE TEMP TABLE dd AS
    SELECT x.day, v.class, v.id AS driver_id,
           (row_number() OVER (PARTITION BY x.day, v.class ORDER BY v.decline DESC, v.id) - 1)::int AS idx
    FROM (SELECT DISTINCT day FROM bench_gen.slot WHERE month = ${m}) x
    JOIN bench_gen.driver v ON v.works_from <= x.day AND x.day < v.works_until
        AND bench_gen.u(v.id * 100000 + (x.day - date '2000-01-01'), 3) < v.activity;
CREATE UNIQUE INDEX ON dd (day, class, idx);
CREATE TEMP TABLE ddn AS SELECT day, class, count(*)::int AS n FROM dd GROUP BY 1, 2;
ANALYZE tix (t); ANALYZE dd (day); ANALYZE ddn (day);
"""

MONTH_RIDES = """
-- Each ride's booking time, channel, class, outcome and number of offers; its driver rotates through the day's
-- drivers of its class per 20-minute window, so a driver rarely has two rides at once.
CREATE TEMP TABLE r0 AS
SELECT q.*, d.driver_id, n.n AS n_drivers, (q.rnk + q.wnd * 7919) % n.n AS driver_idx
FROM (
    SELECT p.*, row_number() OVER (PARTITION BY p.day, p.cls, p.wnd ORDER BY p.k) AS rnk
    FROM (
        SELECT b.*,
            coalesce(b.pickup_at - interval '${lead} minutes', b.booked_at) AS start_at,
            floor(extract(epoch FROM coalesce(b.pickup_at - interval '${lead} minutes', b.booked_at)) / 1200)::bigint
                AS wnd,
            b.status IN ('completed', 'no_show') OR coalesce(b.stage IN ('assigned', 'arrived'), false) AS accepted,
            CASE WHEN b.status IN ('completed', 'no_show') OR b.stage IN ('assigned', 'arrived') THEN b.g + 1
                 WHEN b.stage = 'offering' THEN least(b.g, 3) + 1
                 WHEN b.v < 0.35 THEN 0 WHEN b.v < 0.70 THEN ${max_tries}
                 ELSE 1 + floor(4 * (b.v - 0.70) / 0.30)::int END AS n_offers
        FROM (
            SELECT a.*,
                CASE WHEN NOT a.online AND bench_gen.u(a.k, 5) < 0.04 AND a.booked_at < ${end_at}::timestamptz -
                    interval '1 day'
                     THEN date_bin('5 minutes', a.booked_at + (1800 + 41400 * bench_gen.u(a.k, 13)) * interval
                         '1 second',
                                   timestamptz '2000-01-01') + interval '5 minutes' END AS pickup_at,
                CASE WHEN bench_gen.u(a.k, 3) < 0.92 THEN 'sedan' WHEN bench_gen.u(a.k, 3) < 0.98 THEN 'van'
                     ELSE 'luxury' END AS cls,
                bench_gen.u(a.k, 4) < CASE WHEN a.online THEN 0.15 ELSE 0.07 END AS walk_in,
                CASE WHEN a.x < a.p_nd THEN 'no_driver_found' WHEN a.x < a.p_nd + a.p_cancel THEN 'cancelled'
                     WHEN a.x < a.p_nd + a.p_cancel + a.p_noshow THEN 'no_show' ELSE 'completed' END AS status,
                CASE WHEN a.x >= a.p_nd AND a.x < a.p_nd + a.p_cancel THEN
                     CASE WHEN a.y < 0.30 THEN 'offering' WHEN a.y < 0.45 THEN 'unassigned'
                          WHEN a.y < 0.90 THEN 'assigned' ELSE 'arrived' END END AS stage,
                least(4, floor(ln(1 - bench_gen.u(a.k, 19)) / ln(a.p_fail)))::int AS g,
                bench_gen.u(a.k, 20) AS v
            FROM (
                SELECT s.ride_base + j - 1 AS k, s.slot, s.day, s.local_hour, s.weekday, s.is_holiday, s.load,
                    s.p_nd, s.p_cancel, s.p_noshow, s.p_fail, s.wait_med, s.p_pre_ab, s.travel_factor, s.speed_kmh,
                    s.starts_at + (j - 1 + bench_gen.u(s.ride_base + j - 1, 1)) * 3600.0 / s.n_rides
                        * interval '1 second' AS booked_at,
                    bench_gen.u(s.ride_base + j - 1, 2) < ${self_service} AS online,
                    bench_gen.u(s.ride_base + j - 1, 10) AS x, bench_gen.u(s.ride_base + j - 1, 11) AS y
                FROM bench_gen.slot s CROSS JOIN LATERAL generate_series(1, s.n_rides) j
                WHERE s.month = ${m}
                OFFSET 0
            ) a
            OFFSET 0
        ) b
        OFFSET 0
    ) p
) q
LEFT JOIN ddn n ON n.day = q.day AND n.class = q.cls
LEFT JOIN dd d ON d.day = q.day AND d.class = q.cls AND d.idx = (q.rnk + q.wnd * 7919) % n.n;

-- Who rides, from where to where, booked by which operator; the quote's measurements.
CREATE TEMP TABLE r1 AS
SELECT y.*,
    round(bench_gen.metres(y.p_lat, y.p_lng, y.d_lat, y.d_lng) * ${road_factor})::int AS q_dist,
    round(bench_gen.metres(y.p_lat, y.p_lng, y.d_lat, y.d_lng) * ${road_factor} / (${average_speed} / 3.6))::int
        AS q_dur,
    extract(hour FROM coalesce(y.pickup_at, y.booked_at) AT TIME ZONE ${tz}) NOT BETWEEN 5 AND 22 AS q_night,
    extract(isodow FROM coalesce(y.pickup_at, y.booked_at) AT TIME ZONE ${tz}) = 5
        OR (coalesce(y.pickup_at, y.booked_at) AT TIME ZONE ${tz})::date = ANY(${holidays}) AS q_holiday
FROM (
    SELECT x.*,
        CASE x.pm WHEN 'home' THEN x.home_lat WHEN 'work' THEN x.work_lat
             WHEN 'spot' THEN x.sp_lat + x.sp_spread / 111.0 * bench_gen.z(x.k, 21)
             ELSE 35.635 + 0.145 * (bench_gen.u(x.k, 23) + bench_gen.u(x.k, 24)) / 2 END AS p_lat,
        CASE x.pm WHEN 'home' THEN x.home_lng WHEN 'work' THEN x.work_lng
             WHEN 'spot' THEN x.sp_lng + x.sp_spread / 90.2 * bench_gen.z(x.k, 22)
             ELSE 51.25 + 0.30 * (bench_gen.u(x.k, 25) + bench_gen.u(x.k, 26)) / 2 END AS p_lng,
        CASE x.pm WHEN 'home' THEN x.home_text WHEN 'work' THEN x.work_text WHEN 'spot' THEN x.sp_name
             ELSE 'تهران، خیابان ' || (${streets})[1 + floor(bench_gen.u(x.k, 27) * ${n_streets})::int]
                  || '، پلاک ' || (1 + floor(bench_gen.u(x.k, 28) * 200)) END AS p_text,
        CASE WHEN x.pm = 'spot' THEN x.sp_landmark END AS p_landmark,
        CASE x.pm WHEN 'home' THEN x.home_id WHEN 'work' THEN x.work_id END AS p_address,
        CASE x.dm WHEN 'none' THEN NULL WHEN 'home' THEN x.home_lat WHEN 'work' THEN x.work_lat
             WHEN 'spot' THEN x.sd_lat + x.sd_spread / 111.0 * bench_gen.z(x.k, 31)
             ELSE 35.635 + 0.145 * (bench_gen.u(x.k, 33) + bench_gen.u(x.k, 34)) / 2 END AS d_lat,
        CASE x.dm WHEN 'none' THEN NULL WHEN 'home' THEN x.home_lng WHEN 'work' THEN x.work_lng
             WHEN 'spot' THEN x.sd_lng + x.sd_spread / 90.2 * bench_gen.z(x.k, 32)
             ELSE 51.25 + 0.30 * (bench_gen.u(x.k, 35) + bench_gen.u(x.k, 36)) / 2 END AS d_lng,
        CASE x.dm WHEN 'none' THEN NULL WHEN 'home' THEN x.home_text WHEN 'work' THEN x.work_text
             WHEN 'spot' THEN x.sd_name
             ELSE 'تهران، خیابان ' || (${streets})[1 + floor(bench_gen.u(x.k, 37) * ${n_streets})::int]
                  || '، پلاک ' || (1 + floor(bench_gen.u(x.k, 38) * 200)) END AS d_text,
        CASE WHEN x.dm = 'spot' THEN x.sd_landmark END AS d_landmark,
        CASE x.dm WHEN 'home' THEN x.home_id WHEN 'work' THEN x.work_id END AS d_address
    FROM (
        SELECT w.*,
            CASE WHEN w.dm0 = 'work' AND w.work_id IS NULL THEN 'spot' ELSE w.dm0 END AS dm
        FROM (
            SELECT v.*,
                CASE WHEN bench_gen.u(v.k, 9) < 0.07 THEN 'none'
                     WHEN v.pm = 'home' AND bench_gen.u(v.k, 14) < 0.65 THEN 'work'
                     WHEN v.pm = 'work' AND bench_gen.u(v.k, 14) < 0.75 THEN 'home'
                     WHEN v.pm IN ('spot', 'random') AND v.home_id IS NOT NULL AND bench_gen.u(v.k, 14) < 0.35
                         THEN 'home'
                     WHEN bench_gen.u(v.k, 18) < 0.6 THEN 'spot' ELSE 'random' END AS dm0
            FROM (
                SELECT r.*, t.subscriber_id, s.home_id, s.home_lat, s.home_lng, s.home_text,
                    s.work_id, s.work_lat, s.work_lng, s.work_text,
                    sp.name AS sp_name, sp.lat AS sp_lat, sp.lng AS sp_lng, sp.spread AS sp_spread,
                    sp.landmark AS sp_landmark,
                    sd.name AS sd_name, sd.lat AS sd_lat, sd.lng AS sd_lng, sd.spread AS sd_spread,
                    sd.landmark AS sd_landmark,
                    op.staff_id AS booked_by, op.extension AS booked_ext, coalesce(op.speed, 1) AS op_speed,
                    CASE WHEN s.id IS NOT NULL THEN s.e164
                         ELSE '+98' || CASE WHEN bench_gen.u(r.k, 73) < 0.5 THEN '901' ELSE '990' END
                              || lpad(floor(bench_gen.u(r.k, 74) * 3000000)::text, 7, '0') END AS phone,
                    CASE WHEN s.id IS NOT NULL AND bench_gen.u(r.k, 7) < 0.55 THEN
                         CASE WHEN s.work_id IS NULL THEN 'home'
                              WHEN r.local_hour BETWEEN 5 AND 12 THEN
                                   CASE WHEN bench_gen.u(r.k, 8) < 0.85 THEN 'home' ELSE 'work' END
                              WHEN bench_gen.u(r.k, 8) < 0.7 THEN 'work' ELSE 'home' END
                         WHEN bench_gen.u(r.k, 17) < 0.6 THEN 'spot' ELSE 'random' END AS pm,
                    CASE WHEN bench_gen.u(r.k, 29) < 0.8 THEN 1 WHEN bench_gen.u(r.k, 29) < 0.92 THEN 2
                         WHEN bench_gen.u(r.k, 29) < 0.97 THEN 3 ELSE 4 END AS passengers,
                    CASE WHEN bench_gen.u(r.k, 30) < 0.05 THEN (${notes})[1 + floor(bench_gen.u(r.k, 39) *
                        ${n_notes})::int]
                         END AS notes
                FROM r0 r
                LEFT JOIN tix t ON NOT r.walk_in AND t.t = floor(bench_gen.u(r.k, 6) * ${tickets})::int
                LEFT JOIN bench_gen.subscriber s ON s.id = t.subscriber_id
                LEFT JOIN bench_gen.spot sp ON sp.i = width_bucket(bench_gen.u(r.k, 15), ${spot_cum})
                LEFT JOIN bench_gen.spot sd ON sd.i = width_bucket(bench_gen.u(r.k, 16), ${spot_cum})
                LEFT JOIN bench_gen.op_pool op ON NOT r.online AND op.hour = r.local_hour
                    AND op.idx = floor(bench_gen.u(r.k, 12) * (${pool_sizes})[r.local_hour + 1])::int
                OFFSET 0
            ) v
            OFFSET 0
        ) w
        OFFSET 0
    ) x
) y;
-- No driver of the class at work that day: nobody could be offered the ride.
UPDATE r1 SET status = 'no_driver_found', stage = NULL, accepted = false, n_offers = 0
WHERE n_drivers IS NULL AND (accepted OR n_offers > 0);
-- Each step's table holds all the earlier one did: the earlier goes, to keep temporary files small.
DROP TABLE r0;
ANALYZE r1 (k);

-- The offers, one after another: a decline or a lapse passes the ride to the next driver at once.
CREATE TEMP TABLE o AS
SELECT y.*, y.start_at + y.before_s * interval '1 second' AS offered_at,
       y.start_at + (y.before_s + y.dur) * interval '1 second' AS answered_at,
       CASE WHEN y.status = 'accepted' THEN y.ride_driver ELSE d.driver_id END AS driver_id
FROM (
    SELECT x.*,
        coalesce(sum(x.dur + x.gap) OVER (PARTITION BY x.k ORDER BY x.i ROWS BETWEEN UNBOUNDED PRECEDING
                                                                          AND 1 PRECEDING), 0) AS before_s
    FROM (
        SELECT f.*,
            CASE f.status WHEN 'accepted' THEN 1.5 + 8 * bench_gen.u(f.ok, 42)
                          WHEN 'declined' THEN 2 + 10 * bench_gen.u(f.ok, 42)
                          WHEN 'lost' THEN 5 + 10 * bench_gen.u(f.ok, 42)
                          WHEN 'withdrawn' THEN 1 + 12 * bench_gen.u(f.ok, 42)
                          ELSE ${offer_timeout} + 0.004 + 0.03 * bench_gen.u(f.ok, 42) END AS dur,
            0.008 + 0.04 * bench_gen.u(f.ok, 43) AS gap
        FROM (
            SELECT r.k, i, r.k * 8 + i AS ok, r.day, r.cls, r.start_at, r.n_drivers, r.driver_idx,
                r.driver_id AS ride_driver,
                CASE WHEN i = r.n_offers AND r.accepted THEN 'accepted'
                     WHEN i = r.n_offers AND r.stage = 'offering' THEN 'withdrawn'
                     WHEN bench_gen.u(r.k * 8 + i, 41) < 0.55 THEN 'declined'
                     WHEN bench_gen.u(r.k * 8 + i, 41) < 0.58 THEN 'lost' ELSE 'expired' END AS status
            FROM r1 r CROSS JOIN LATERAL generate_series(1, r.n_offers) i
            OFFSET 0
        ) f
        OFFSET 0
    ) x
) y
LEFT JOIN dd d ON y.status <> 'accepted' AND d.day = y.day AND d.class = y.cls AND d.idx = CASE
    WHEN y.status = 'withdrawn' THEN floor(y.n_drivers * bench_gen.u(y.ok, 44))::int
    WHEN floor(y.n_drivers * bench_gen.u(y.ok, 44) ^ 2)::int = y.driver_idx THEN (y.driver_idx + 1) % y.n_drivers
    ELSE floor(y.n_drivers * bench_gen.u(y.ok, 44) ^ 2)::int END;
CREATE TEMP TABLE oagg AS SELECT k, max(answered_at) AS t_oend FROM o GROUP BY k;
CREATE UNIQUE INDEX ON oagg (k);
ANALYZE o (k); ANALYZE oagg (k);

-- Every time of the ride, its fare's measurements, who cancelled, and what the row ends as.
CREATE TEMP TABLE r2 AS
SELECT z.*,
    coalesce(z.finished_at, z.cancel_at, z.nd_at, z.no_show_at) AS ended_at,
    1 + (z.pickup_at IS NOT NULL)::int + z.n_offers + z.accepted::int + (z.arrived_at IS NOT NULL)::int
      + CASE z.status WHEN 'completed' THEN 2 WHEN 'no_show' THEN 1 WHEN 'cancelled' THEN 1 ELSE 0 END
      + (z.unassigned_at IS NOT NULL)::int + (z.status = 'no_driver_found')::int + 2 * coalesce(z.retries, 0)
        AS version,
    CASE WHEN coalesce(z.retries, 0) > 0 THEN 0 ELSE z.n_offers END AS offer_count,
    CASE WHEN z.status = 'no_driver_found' THEN z.unassigned_at + z.retries * ${retry} * interval '1 second'
         END AS dispatch_after,
    extract(hour FROM z.picked_up_at AT TIME ZONE ${tz}) NOT BETWEEN 5 AND 22 AS f_night,
    extract(isodow FROM z.picked_up_at AT TIME ZONE ${tz}) = 5
        OR (z.picked_up_at AT TIME ZONE ${tz})::date = ANY(${holidays}) AS f_holiday,
    bench_gen.meter(z.cls, z.a_dist, z.waiting_s) AS f_metered,
    bench_gen.base(z.cls, bench_gen.meter(z.cls, z.a_dist, z.waiting_s)) AS f_base,
    bench_gen.meter(z.cls, z.q_dist, 0) AS q_metered,
    bench_gen.base(z.cls, bench_gen.meter(z.cls, z.q_dist, 0)) AS q_base
FROM (
    SELECT w.*,
        CASE WHEN w.status = 'completed' THEN w.arrive_at + w.door_s * interval '1 second' END AS picked_up_at,
        CASE WHEN w.status = 'completed' THEN w.arrive_at + (w.door_s + w.trip_s) * interval '1 second'
             END AS finished_at,
        CASE WHEN w.status = 'no_driver_found' THEN w.unassigned_at + (w.retries * ${retry} + 0.02) * interval
            '1 second'
             END AS nd_at,
        CASE WHEN w.status = 'no_show' THEN w.arrive_at + (300 + 300 * bench_gen.u(w.k, 59)) * interval '1 second'
             END AS no_show_at,
        round(w.trip_s * (0.03 + 0.25 * greatest(0, w.load - 1) * bench_gen.u(w.k, 57)))::int AS waiting_s
    FROM (
        SELECT v.*,
            CASE WHEN v.status = 'no_driver_found'
                 THEN ceil(greatest(0, extract(epoch FROM coalesce(v.pickup_at, v.booked_at)
                                               + interval '${give_up} minutes' - v.unassigned_at)) / ${retry})::int
                 WHEN v.stage = 'unassigned' THEN floor(extract(epoch FROM v.cancel_at - v.unassigned_at) /
                     ${retry})::int
                 END AS retries
        FROM (
            SELECT u.*,
                CASE u.stage WHEN 'offering' THEN u.t_oend
                     WHEN 'unassigned' THEN greatest(u.t_oend + interval '5 seconds', least(
                         u.t_oend + (60 + 840 * bench_gen.u(u.k, 58)) * interval '1 second',
                         coalesce(u.pickup_at, u.booked_at) + interval '${give_up} minutes' - interval '1 minute'))
                     WHEN 'assigned' THEN u.assigned_at + u.travel_s * bench_gen.u(u.k, 58) * interval '1 second'
                     WHEN 'arrived' THEN u.arrive_at + (20 + 200 * bench_gen.u(u.k, 58)) * interval '1 second'
                     END AS cancel_at,
                CASE WHEN u.accepted AND (u.stage IS NULL OR u.stage = 'arrived')
                      AND NOT (u.status = 'completed' AND bench_gen.u(u.k, 52) < 0.18) THEN u.arrive_at END
                    AS arrived_at,
                CASE WHEN u.stage IS NULL THEN NULL
                     WHEN u.online AND bench_gen.u(u.k, 60) < 0.7 THEN 'customer' ELSE 'operator' END AS
                         cancelled_by_kind
            FROM (
                SELECT t.*,
                    CASE WHEN t.accepted THEN
                         CASE WHEN t.pickup_at IS NOT NULL
                              THEN greatest(t.assigned_at + interval '60 seconds',
                                            t.pickup_at + (bench_gen.u(t.k, 51) * 9 - 3) * interval '1 minute')
                              ELSE t.assigned_at + t.travel_s * interval '1 second' END END AS arrive_at
                FROM (
                    SELECT r.*, coalesce(a.t_oend, r.start_at) AS t_oend,
                        CASE WHEN r.accepted THEN a.t_oend END AS assigned_at,
                        CASE WHEN r.status = 'no_driver_found' OR r.stage = 'unassigned'
                             THEN coalesce(a.t_oend, r.start_at) END AS unassigned_at,
                        least(1800, 60 + 240 * r.travel_factor * exp(0.55 * bench_gen.z(r.k, 50))) AS travel_s,
                        15 + 75 * exp(0.6 * bench_gen.z(r.k, 53)) AS door_s,
                        NOT r.online AND r.d_lat IS NOT NULL AND bench_gen.u(r.k, 55) >= 0.12 AS locked,
                        CASE WHEN r.d_lat IS NULL
                             THEN greatest(800, least(60000, round(5500 * exp(0.6 * bench_gen.z(r.k, 54)))))::int
                             WHEN NOT r.online AND bench_gen.u(r.k, 55) >= 0.12 THEN r.q_dist
                             ELSE round(r.q_dist * CASE WHEN r.online THEN 0.92 + 0.2 * bench_gen.u(r.k, 56)
                                                        ELSE 1.1 + 0.4 * bench_gen.u(r.k, 56) END)::int END AS a_dist,
                        30 + (CASE WHEN r.d_lat IS NULL
                                   THEN greatest(800, least(60000, round(5500 * exp(0.6 * bench_gen.z(r.k, 54)))))
                                   ELSE r.q_dist END) / (r.speed_kmh / 3.6) * exp(0.15 * bench_gen.z(r.k, 64)) AS trip_s
                    FROM r1 r LEFT JOIN oagg a USING (k)
                    OFFSET 0
                ) t
                OFFSET 0
            ) u
            OFFSET 0
        ) v
        OFFSET 0
    ) w
) z;
DROP TABLE r1;
ANALYZE r2 (k);

-- The quote and fare documents, each built once.
CREATE TEMP TABLE rf AS
SELECT q.k, q.quote,
    CASE WHEN q.status <> 'completed' THEN NULL WHEN q.locked THEN q.quote
         WHEN q.detailed
             THEN bench_gen.fare(q.cls, q.a_dist, q.trip_seconds, q.waiting_s, q.f_night, q.f_holiday, q.f_metered,
                                 q.f_base)
         ELSE bench_gen.fare_summary(q.cls, q.a_dist, q.trip_seconds, q.f_metered, q.f_base, q.f_night, q.f_holiday)
         END AS fare
FROM (
    SELECT r.k, r.status, r.locked, r.cls, r.a_dist, round(r.trip_s)::int AS trip_seconds, r.waiting_s, r.f_night,
        r.f_holiday, r.f_metered, r.f_base, r.booked_at >= ${detail_from}::timestamptz AS detailed,
        CASE WHEN r.d_lat IS NULL THEN NULL
             WHEN r.booked_at >= ${detail_from}::timestamptz
             THEN bench_gen.fare(r.cls, r.q_dist, r.q_dur, 0, r.q_night, r.q_holiday, r.q_metered, r.q_base)
             ELSE bench_gen.fare_summary(r.cls, r.q_dist, r.q_dur, r.q_metered, r.q_base, r.q_night, r.q_holiday)
             END AS quote
    FROM r2 r
    OFFSET 0
) q;
CREATE UNIQUE INDEX ON rf (k);
"""


# Who cancelled and why, once, for the ride row, its step and the call it was cancelled on.
MONTH_CANCELS = """
DROP TABLE IF EXISTS rc;
CREATE TEMP TABLE rc AS
SELECT r.k, r.cancelled_by_kind, p.extension,
    CASE r.cancelled_by_kind WHEN 'operator' THEN p.staff_id ELSE r.subscriber_id END AS by_id,
    CASE WHEN r.cancelled_by_kind = 'customer' THEN ${customer_cancel}
         WHEN r.stage IN ('assigned', 'arrived') THEN (${late_reasons})[1 + floor(bench_gen.u(r.k, 62) *
             ${n_late})::int]
         ELSE (${early_reasons})[1 + floor(bench_gen.u(r.k, 62) * ${n_early})::int] END AS reason
FROM r2 r
LEFT JOIN bench_gen.op_pool p ON r.cancelled_by_kind = 'operator'
    AND p.hour = extract(hour FROM r.cancel_at AT TIME ZONE ${tz})::int
    AND p.idx = floor(bench_gen.u(r.k, 61) * (${pool_sizes})[extract(hour FROM r.cancel_at AT TIME ZONE ${tz})::int +
        1])::int
WHERE r.stage IS NOT NULL;
CREATE UNIQUE INDEX ON rc (k);
ANALYZE rc (k);
"""


MONTH_WRITE = """
INSERT INTO rides (id, subscriber_id, walk_in_name, walk_in_phone, call_id, pickup_text, pickup_landmark, pickup_lat,
                   pickup_lng, pickup_address_id, destination_text, destination_landmark, destination_lat,
                   destination_lng, destination_address_id, passengers, vehicle_class, notes_for_driver, pickup_at,
                   status, driver_id, offer_count, dispatch_after, assigned_at, arrived_at, picked_up_at, finished_at,
                   quote, quote_total_rials, quote_locked, fare, fare_total_rials, driver_share_rials,
                   center_share_rials, fare_basis, cancelled_by_kind, cancelled_by_id, cancel_reason, booked_by,
                   booked_via, idempotency_scope, idempotency_key, request_hash, version, created_at, updated_at)
SELECT f.k + 1, f.subscriber_id,
    CASE WHEN f.subscriber_id IS NULL THEN CASE WHEN f.online THEN ${online_name}
         ELSE (${first_names})[1 + floor(bench_gen.u(f.k, 63) * ${n_first})::int] END END,
    CASE WHEN f.subscriber_id IS NULL THEN f.phone END, f.call_id,
    f.p_text, f.p_landmark, round(f.p_lat::numeric, 6), round(f.p_lng::numeric, 6), f.p_address,
    f.d_text, f.d_landmark, round(f.d_lat::numeric, 6), round(f.d_lng::numeric, 6), f.d_address,
    f.passengers, f.cls, f.notes, f.pickup_at, f.status, CASE WHEN f.accepted THEN f.driver_id END, f.offer_count,
    f.dispatch_after, f.assigned_at, f.arrived_at, f.picked_up_at, f.finished_at,
    f.quote, CASE WHEN f.quote IS NOT NULL THEN bench_gen.total(f.q_base, f.q_night, f.q_holiday) END, NOT f.online,
    f.fare, f.fare_total, f.fare_total - f.fare_total * f.commission_bp / 10000, f.fare_total * f.commission_bp / 10000,
    CASE WHEN f.fare IS NOT NULL THEN CASE WHEN f.locked THEN 'locked_quote' ELSE 'meter' END END,
    f.cancelled_by_kind, f.cancelled_by_id, f.cancel_reason, f.booked_by,
    CASE WHEN f.online THEN 'self_service' ELSE 'console' END,
    CASE WHEN f.online THEN 'customer:' || coalesce(f.subscriber_id::text, 'None') ELSE 'operator:' || f.booked_by END,
    md5('ride ' || f.k)::uuid::text, encode(sha256(convert_to('booking ' || f.k, 'UTF8')), 'hex'), f.version,
    f.booked_at, f.ended_at
FROM (
    SELECT r.*, bc.id AS call_id, x.by_id AS cancelled_by_id, x.reason AS cancel_reason,
        coalesce(dv.commission_bp, 0) AS commission_bp, rf.quote, rf.fare,
        CASE WHEN r.status = 'completed' THEN CASE WHEN r.locked THEN bench_gen.total(r.q_base, r.q_night, r.q_holiday)
             ELSE bench_gen.total(r.f_base, r.f_night, r.f_holiday) END END AS fare_total
    FROM r2 r
    JOIN rf USING (k)
    LEFT JOIN c bc ON NOT r.online AND bc.src = 1 AND bc.key = r.k
    LEFT JOIN rc x ON x.k = r.k
    LEFT JOIN bench_gen.driver dv ON dv.id = r.driver_id
) f
ORDER BY f.k;

INSERT INTO ride_offers (id, ride_id, driver_id, search_id, rank, distance_m, via, offered_at, expires_at, status,
                         answered_at, reason)
SELECT x.id, x.k + 1, x.driver_id, x.id, CASE WHEN bench_gen.u(x.ok, 47) < 0.9 THEN 1 ELSE 2 END,
    greatest(30, round(CASE WHEN x.via = 'zone_queue' THEN 1100 ELSE 700 END * exp(0.7 * bench_gen.z(x.ok, 45))))::int,
    x.via, x.offered_at, x.offered_at + interval '${offer_timeout} seconds', x.status, x.answered_at,
    CASE x.status WHEN 'expired' THEN 'Timed out.' WHEN 'lost' THEN 'The driver''s app went offline.'
                  WHEN 'withdrawn' THEN 'The ride was cancelled.'
                  WHEN 'declined' THEN CASE WHEN bench_gen.u(x.ok, 48) < 0.1
                       THEN (${decline_reasons})[1 + floor(bench_gen.u(x.ok, 49) * ${n_decline})::int] END END
FROM (SELECT o.*, ${offer_base} + row_number() OVER (ORDER BY o.offered_at, o.k, o.i) AS id,
             CASE WHEN bench_gen.u(o.ok, 46) < 0.22 THEN 'zone_queue' ELSE 'nearest' END AS via
      FROM o) x
ORDER BY x.id;

INSERT INTO ride_events (ride_id, action, from_status, to_status, actor_kind, actor_id, reason, driver_id, at)
SELECT ride_id, action, from_status, to_status, actor_kind, actor_id, reason, driver_id, at FROM (
    SELECT k + 1 AS ride_id, 1 AS seq, 'book' AS action, NULL AS from_status,
        CASE WHEN pickup_at IS NOT NULL THEN 'scheduled' ELSE 'requested' END AS to_status,
        CASE WHEN online THEN 'customer' ELSE 'operator' END AS actor_kind,
        CASE WHEN online THEN subscriber_id ELSE booked_by END AS actor_id, NULL AS reason, NULL::bigint AS driver_id,
        booked_at AS at
    FROM r2
    UNION ALL
    SELECT k + 1, 2, 'release', 'scheduled', 'requested', 'system', NULL, NULL, NULL, start_at
    FROM r2 WHERE pickup_at IS NOT NULL
    UNION ALL
    SELECT k + 1, 2 + i, 'offer', CASE WHEN i = 1 THEN 'requested' ELSE 'offering' END, 'offering', 'system', NULL,
        NULL, driver_id, offered_at
    FROM o
    UNION ALL
    SELECT k + 1, 20, 'accept', 'offering', 'assigned', 'driver', driver_id, NULL, driver_id, assigned_at
    FROM r2 WHERE accepted
    UNION ALL
    SELECT k + 1, 20, 'mark_unassigned', CASE WHEN n_offers = 0 THEN 'requested' ELSE 'offering' END, 'unassigned',
        'system', NULL,
        CASE WHEN n_offers >= ${max_tries} THEN 'No driver took the ride after ' || n_offers || ' offers.'
             ELSE 'No driver is free near the pickup.' END, NULL, unassigned_at
    FROM r2 WHERE unassigned_at IS NOT NULL
    UNION ALL
    SELECT k + 1, 21, 'arrive', 'assigned', 'arrived', 'driver', driver_id, NULL, driver_id, arrived_at
    FROM r2 WHERE arrived_at IS NOT NULL
    UNION ALL
    SELECT k + 1, 22, 'pick_up', CASE WHEN arrived_at IS NULL THEN 'assigned' ELSE 'arrived' END, 'on_board',
        'driver', driver_id, NULL, driver_id, picked_up_at
    FROM r2 WHERE status = 'completed'
    UNION ALL
    SELECT k + 1, 23, 'complete', 'on_board', 'completed', 'driver', driver_id, NULL, driver_id, finished_at
    FROM r2 WHERE status = 'completed'
    UNION ALL
    SELECT r.k + 1, 24, 'cancel', r.stage, 'cancelled', r.cancelled_by_kind, x.by_id, x.reason,
        CASE WHEN r.accepted THEN r.driver_id END, r.cancel_at
    FROM r2 r JOIN rc x USING (k)
    UNION ALL
    SELECT k + 1, 24, 'no_show', 'arrived', 'no_show', 'driver', driver_id, NULL, driver_id, no_show_at
    FROM r2 WHERE status = 'no_show'
    UNION ALL
    SELECT k + 1, 24, 'mark_no_driver_found', 'unassigned', 'no_driver_found', 'system', NULL,
        'No driver was found in time.', NULL, nd_at
    FROM r2 WHERE status = 'no_driver_found'
) e
-- Only the rides a case is about: a complaint's evidence shows their steps; no report reads them.
WHERE e.ride_id - 1 IN (SELECT k FROM cm)
ORDER BY at, ride_id, seq;
"""
