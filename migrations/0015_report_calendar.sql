-- Customers' months (their cohorts and first months) follow the center's calendar, TAXICRM_CALENDAR: Jalali
-- months by default, Gregorian where set. Owned by reports/.

-- Rollups built before this counted Gregorian months; the basis says so, and a different setting rebuilds them.
ALTER TABLE report_basis ADD COLUMN calendar text CHECK (calendar IN ('jalali', 'gregorian'));
UPDATE report_basis SET calendar = 'gregorian';
ALTER TABLE report_basis ALTER COLUMN calendar SET NOT NULL;

-- A day's place in the Jalali calendar by the arithmetic of ICU's Persian calendar (as reports/calendar.py and the
-- console's Intl dates count): days since 1 Farvardin 1 AP, the Jalali year, the day of that year (0 on Nowruz),
-- and how far into its month the day is (six months of 31 days, five of 30, Esfand of 29 or 30). Each takes the
-- day itself and is one expression, so PostgreSQL inlines them all into the query that calls report_month.
CREATE FUNCTION report_persian_days(day date) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN day - date '2000-01-01' + 503225;
CREATE FUNCTION report_jalali_year(day date) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 1 + (33 * report_persian_days(day) + 3) / 12053;
CREATE FUNCTION report_jalali_day_of_year(day date) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN report_persian_days(day) - (365 * (report_jalali_year(day) - 1) + (8 * report_jalali_year(day) + 21) / 33);
CREATE FUNCTION report_jalali_month_offset(day date) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN report_jalali_day_of_year(day) < 186 THEN report_jalali_day_of_year(day) % 31
                ELSE (report_jalali_day_of_year(day) - 186) % 30 END;

-- The first day of the calendar month holding `day`.
CREATE FUNCTION report_month(day date, calendar text) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE calendar
        WHEN 'gregorian' THEN day - (extract(day FROM day)::integer - 1)
        ELSE day - report_jalali_month_offset(day)
    END;
