-- What the center records about a driver and their car, their contract, and who suspended them. Owned by dispatch/.

ALTER TABLE drivers
    ADD COLUMN phone          text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),  -- E.164, as subscribers/phones.py makes it
    ADD COLUMN licence_number text CHECK (length(licence_number) BETWEEN 1 AND 30),
    ADD COLUMN plate_kind     text CHECK (plate_kind IN ('iranian', 'other')),
    ADD COLUMN plate          text CHECK (length(plate) BETWEEN 1 AND 20),  -- canonical form, see dispatch/plates.py
    ADD COLUMN plate_display  text CHECK (length(plate_display) BETWEEN 1 AND 30),
    ADD COLUMN vehicle_make   text CHECK (length(vehicle_make) BETWEEN 1 AND 50),
    ADD COLUMN vehicle_model  text CHECK (length(vehicle_model) BETWEEN 1 AND 50),
    ADD COLUMN vehicle_colour text CHECK (length(vehicle_colour) BETWEEN 1 AND 50),
    ADD COLUMN vehicle_class  text NOT NULL DEFAULT 'sedan' CHECK (vehicle_class IN ('sedan', 'van', 'luxury')),
    ADD COLUMN contract_start date,
    ADD COLUMN contract_end   date,
    -- The center's share of each fare in basis points (1500 = 15%): integers, so no rounding drift.
    ADD COLUMN commission_bp  integer NOT NULL DEFAULT 1500 CHECK (commission_bp BETWEEN 0 AND 10000),
    ADD COLUMN suspended_at   timestamptz,
    ADD COLUMN suspended_by   bigint REFERENCES staff_users (id) ON DELETE SET NULL,
    ADD CONSTRAINT drivers_contract_order CHECK (contract_end >= contract_start),
    -- A plate is stored with its kind, so it is always parsed by the right rule.
    ADD CONSTRAINT drivers_plate_with_kind CHECK ((plate IS NULL) = (plate_kind IS NULL) AND (plate IS NULL) = (plate_display IS NULL)),
    -- A suspension always says why: the supervisor's first question.
    ADD CONSTRAINT drivers_suspension_reason CHECK (status = 'active' OR suspended_reason IS NOT NULL);

-- One phone, one driver: the number is how a driver is recognised when they call the center.
CREATE UNIQUE INDEX drivers_phone_key ON drivers (phone) WHERE phone IS NOT NULL;
