-- booking.sql — fixture for plans/booking.yaml (seed 002: Hoitohuone Zenni, a treatment-room
-- booking system moving from SQLite to a hosted PostgreSQL, Supabase).
--
-- Four tables: customers, rooms, bookings, payments. Conventions of this app:
--   * integer ids (INTEGER PRIMARY KEY, no AUTOINCREMENT);
--   * money as INTEGER cents (price_cents, amount_cents), as the payment provider reports it —
--     exact on both engines, so revenue compares without any tolerance;
--   * timestamps as ISO-8601 UTC text, as JavaScript's Date.toISOString() writes them:
--     '2024-04-02T07:00:00.000Z' (10:00 in Helsinki, UTC+3 in summer);
--   * booleans declared BOOLEAN, holding 0/1.
--
-- On purpose, and handled by the plan's filters (no trap that fails a run):
--   * customer 12 is the staff's test account. Its four CANCELLED test bookings (is_test = 1,
--     status 'cancelled': smoke tests, a refund-flow test, a load test) are left behind by the
--     plan, and so is the one payment attached to them (the refund-flow test, refunded).
--   * its CONFIRMED test booking (the uptime monitor's standing slot) is real operational data
--     and is carried.
-- Finnish text with ä/ö and an apostrophe in notes; no orphans (foreign_key_check is clean).
--
-- Rebuilt by plans/data/build.sh; every row is fixed, nothing random.

PRAGMA foreign_keys = ON;

CREATE TABLE customers (
    id               INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE,
    full_name        TEXT    NOT NULL,
    phone            TEXT,
    locale           TEXT    NOT NULL DEFAULT 'fi' CHECK (locale IN ('fi', 'sv', 'en')),
    marketing_opt_in BOOLEAN NOT NULL DEFAULT 0,
    created_at       DATETIME NOT NULL
);

CREATE TABLE rooms (
    id                INTEGER PRIMARY KEY,
    slug              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    capacity          INTEGER NOT NULL DEFAULT 1 CHECK (capacity > 0),
    is_active         BOOLEAN NOT NULL DEFAULT 1,
    created_at        DATETIME NOT NULL
);

CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE RESTRICT,
    service     TEXT    NOT NULL,
    starts_at   DATETIME NOT NULL,
    ends_at     DATETIME NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    is_test     BOOLEAN NOT NULL DEFAULT 0,
    notes       TEXT,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    CHECK (ends_at > starts_at)
);

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    booking_id   INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency     TEXT    NOT NULL DEFAULT 'EUR',
    method       TEXT    NOT NULL CHECK (method IN ('card', 'mobilepay', 'cash', 'gift_card')),
    status       TEXT    NOT NULL CHECK (status IN ('succeeded', 'refunded', 'failed')),
    provider_ref TEXT    UNIQUE,                       -- NULL for cash and gift cards
    paid_at      DATETIME NOT NULL
);

CREATE INDEX idx_bookings_customer ON bookings (customer_id);
CREATE INDEX idx_bookings_room_starts ON bookings (room_id, starts_at);
CREATE INDEX idx_bookings_status ON bookings (status);
CREATE INDEX idx_payments_booking ON payments (booking_id);

-- ---------------------------------------------------------------------------------------------
INSERT INTO customers (id, email, full_name, phone, locale, marketing_opt_in, created_at) VALUES
    (1,  'aino.virtanen@example.fi',   'Aino Virtanen',    '+358 40 123 4501', 'fi', 1, '2024-01-15T08:12:33.000Z'),
    (2,  'mikko.korhonen@example.fi',  'Mikko Korhonen',   '+358 50 234 5602', 'fi', 0, '2024-01-20T17:45:02.120Z'),
    (3,  'helmi.nieminen@example.fi',  'Helmi Nieminen',   NULL,               'fi', 1, '2024-02-02T10:00:00.000Z'),
    (4,  'lars.johansson@example.se',  'Lars Johansson',   '+46 70 555 0104',  'sv', 0, '2024-02-14T12:30:45.500Z'),
    (5,  'emilia.makela@example.fi',   'Emilia Mäkelä',    '+358 44 345 6705', 'fi', 1, '2024-02-20T06:05:00.000Z'),
    (6,  'juha.heikkinen@example.fi',  'Juha Heikkinen',   '+358 40 456 7806', 'fi', 0, '2024-03-01T15:15:15.000Z'),
    (7,  'sara.oconnor@example.com',   'Sara O''Connor',   '+353 85 555 0107', 'en', 0, '2024-03-10T09:40:00.000Z'),
    (8,  'ville.laine@example.fi',     'Ville Laine',      '+358 45 567 8908', 'fi', 1, '2024-03-18T19:22:10.000Z'),
    (9,  'kaisa.jarvinen@example.fi',  'Kaisa Järvinen',   NULL,               'fi', 0, '2024-03-25T11:11:11.000Z'),
    (10, 'otto.lehtonen@example.fi',   'Otto Lehtonen',    '+358 50 678 9010', 'fi', 0, '2024-04-12T07:00:00.000Z'),
    (11, 'nora.saarinen@example.fi',   'Nora Saarinen',    '+358 40 789 0111', 'en', 1, '2024-04-28T16:48:30.250Z'),
    -- The staff's test account: kept (staff log in with it on the new system too).
    (12, 'test+booking@zenni.example', 'TESTI Asiakas',    NULL,               'fi', 0, '2024-01-02T09:00:00.000Z');

INSERT INTO rooms (id, slug, name, capacity, is_active, created_at) VALUES
    (1, 'kuusi',        'Kuusi (spruce room)',  1, 1, '2024-01-02T08:00:00.000Z'),
    (2, 'koivu',        'Koivu (birch room)',   1, 1, '2024-01-02T08:00:00.000Z'),
    (3, 'manty',        'Mänty (pine room)',    2, 1, '2024-01-02T08:00:00.000Z'),
    -- Closed for renovation: no bookings, still carried.
    (4, 'sauna-lounge', 'Sauna lounge',         4, 0, '2024-01-02T08:00:00.000Z');

-- bookings: 38 from April to June 2024 (the cut-over is 2024-06-01; later ones are upcoming).
-- Cancelled test bookings, left behind by the plan's filter: ids 6, 10, 16, 24.
-- The uptime monitor's confirmed test booking, carried: id 31.
INSERT INTO bookings (id, customer_id, room_id, service, starts_at, ends_at, status, price_cents, is_test, notes, created_at, updated_at) VALUES
    (1, 1, 1, 'Hieronta 60 min', '2024-04-02T07:00:00.000Z', '2024-04-02T08:00:00.000Z', 'completed', 7500, 0, NULL, '2024-03-26T01:43:00.000Z', '2024-04-02T08:05:00.000Z'),
    (2, 2, 2, 'Hieronta 90 min', '2024-04-03T09:30:00.000Z', '2024-04-03T11:00:00.000Z', 'completed', 10500, 0, NULL, '2024-03-25T22:56:00.000Z', '2024-04-03T11:05:00.000Z'),
    (3, 3, 1, 'Kuppaushoito', '2024-04-05T06:00:00.000Z', '2024-04-05T06:45:00.000Z', 'completed', 6500, 0, NULL, '2024-03-27T01:09:00.000Z', '2024-04-05T06:50:00.000Z'),
    (4, 4, 3, 'Reiki 60 min', '2024-04-05T12:00:00.000Z', '2024-04-05T13:00:00.000Z', 'no_show', 7000, 0, NULL, '2024-03-26T02:52:00.000Z', '2024-04-05T13:05:00.000Z'),
    (5, 5, 2, 'Kasvohoito', '2024-04-09T08:00:00.000Z', '2024-04-09T09:15:00.000Z', 'completed', 8900, 0, 'Herkkä iho – käytä hajusteetonta öljyä.', '2024-03-29T04:35:00.000Z', '2024-04-09T09:20:00.000Z'),
    (6, 12, 1, 'Hieronta 60 min', '2024-04-10T05:00:00.000Z', '2024-04-10T06:00:00.000Z', 'cancelled', 7500, 1, 'Stripe refund flow test', '2024-03-28T20:18:00.000Z', '2024-04-09T04:00:00.000Z'),
    (7, 6, 1, 'Hieronta 60 min', '2024-04-11T14:00:00.000Z', '2024-04-11T15:00:00.000Z', 'cancelled', 7500, 0, 'Asiakas sairastui', '2024-03-29T11:01:00.000Z', '2024-04-10T12:00:00.000Z'),
    (8, 1, 1, 'Hieronta 90 min', '2024-04-16T07:00:00.000Z', '2024-04-16T08:30:00.000Z', 'completed', 10500, 0, NULL, '2024-04-01T23:44:00.000Z', '2024-04-16T08:35:00.000Z'),
    (9, 7, 3, 'Reiki 60 min', '2024-04-17T10:00:00.000Z', '2024-04-17T11:00:00.000Z', 'completed', 7000, 0, NULL, '2024-04-11T08:27:00.000Z', '2024-04-17T11:05:00.000Z'),
    (10, 12, 2, 'Kuppaushoito', '2024-04-18T05:00:00.000Z', '2024-04-18T05:45:00.000Z', 'cancelled', 6500, 1, 'smoke test after deploy', '2024-04-10T22:10:00.000Z', '2024-04-17T05:00:00.000Z'),
    (11, 8, 2, 'Hieronta 60 min', '2024-04-19T13:30:00.000Z', '2024-04-19T14:30:00.000Z', 'completed', 7500, 0, NULL, '2024-04-11T13:23:00.000Z', '2024-04-19T14:35:00.000Z'),
    (12, 2, 2, 'Hieronta 90 min', '2024-04-24T09:30:00.000Z', '2024-04-24T11:00:00.000Z', 'completed', 10500, 0, NULL, '2024-04-15T04:06:00.000Z', '2024-04-24T11:05:00.000Z'),
    (13, 9, 1, 'Kasvohoito', '2024-04-26T11:00:00.000Z', '2024-04-26T12:15:00.000Z', 'completed', 8900, 0, 'Gift card from sister', '2024-04-16T00:19:00.000Z', '2024-04-26T12:20:00.000Z'),
    (14, 3, 1, 'Kuppaushoito', '2024-04-30T06:00:00.000Z', '2024-04-30T06:45:00.000Z', 'completed', 6500, 0, NULL, '2024-04-19T01:02:00.000Z', '2024-04-30T06:50:00.000Z'),
    (15, 10, 3, 'Hieronta 60 min', '2024-05-02T15:00:00.000Z', '2024-05-02T16:00:00.000Z', 'cancelled', 7500, 0, NULL, '2024-04-20T05:45:00.000Z', '2024-05-01T15:00:00.000Z'),
    (16, 12, 3, 'Hieronta 60 min', '2024-05-03T05:00:00.000Z', '2024-05-03T06:00:00.000Z', 'cancelled', 7500, 1, 'double-booking guard test', '2024-04-20T01:28:00.000Z', '2024-05-02T04:00:00.000Z'),
    (17, 11, 1, 'Hieronta 60 min', '2024-05-06T07:00:00.000Z', '2024-05-06T08:00:00.000Z', 'completed', 7500, 0, NULL, '2024-04-21T22:11:00.000Z', '2024-05-06T08:05:00.000Z'),
    (18, 5, 2, 'Kasvohoito', '2024-05-07T08:00:00.000Z', '2024-05-07T09:15:00.000Z', 'completed', 8900, 0, NULL, '2024-05-01T05:54:00.000Z', '2024-05-07T09:20:00.000Z'),
    (19, 4, 3, 'Reiki 60 min', '2024-05-08T12:00:00.000Z', '2024-05-08T13:00:00.000Z', 'completed', 7000, 0, 'Tried again after April no-show', '2024-05-01T04:37:00.000Z', '2024-05-08T13:05:00.000Z'),
    (20, 6, 1, 'Hieronta 90 min', '2024-05-13T14:00:00.000Z', '2024-05-13T15:30:00.000Z', 'completed', 10500, 0, NULL, '2024-05-05T12:20:00.000Z', '2024-05-13T15:35:00.000Z'),
    (21, 1, 1, 'Hieronta 60 min', '2024-05-14T07:00:00.000Z', '2024-05-14T08:00:00.000Z', 'completed', 7500, 0, NULL, '2024-05-05T00:03:00.000Z', '2024-05-14T08:05:00.000Z'),
    (22, 7, 3, 'Reiki 60 min', '2024-05-15T10:00:00.000Z', '2024-05-15T11:00:00.000Z', 'no_show', 7000, 0, NULL, '2024-05-05T09:46:00.000Z', '2024-05-15T11:05:00.000Z'),
    (23, 8, 2, 'Hieronta 60 min', '2024-05-17T13:30:00.000Z', '2024-05-17T14:30:00.000Z', 'completed', 7500, 0, NULL, '2024-05-06T07:59:00.000Z', '2024-05-17T14:35:00.000Z'),
    (24, 12, 2, 'Hieronta 60 min', '2024-05-20T05:00:00.000Z', '2024-05-20T06:00:00.000Z', 'cancelled', 7500, 1, 'load test – O''Brien quoting check', '2024-05-07T18:12:00.000Z', '2024-05-19T01:00:00.000Z'),
    (25, 9, 1, 'Kuppaushoito', '2024-05-21T11:00:00.000Z', '2024-05-21T11:45:00.000Z', 'completed', 6500, 0, NULL, '2024-05-08T06:55:00.000Z', '2024-05-21T11:50:00.000Z'),
    (26, 2, 2, 'Hieronta 90 min', '2024-05-22T09:30:00.000Z', '2024-05-22T11:00:00.000Z', 'completed', 10500, 0, NULL, '2024-05-08T00:08:00.000Z', '2024-05-22T11:05:00.000Z'),
    (27, 10, 3, 'Kasvohoito', '2024-05-24T15:00:00.000Z', '2024-05-24T16:15:00.000Z', 'completed', 8900, 0, NULL, '2024-05-18T11:21:00.000Z', '2024-05-24T16:20:00.000Z'),
    (28, 3, 1, 'Kuppaushoito', '2024-05-28T06:00:00.000Z', '2024-05-28T06:45:00.000Z', 'completed', 6500, 0, NULL, '2024-05-20T21:04:00.000Z', '2024-05-28T06:50:00.000Z'),
    (29, 11, 1, 'Hieronta 60 min', '2024-05-29T07:00:00.000Z', '2024-05-29T08:00:00.000Z', 'cancelled', 7500, 0, 'Moved to June', '2024-05-21T04:47:00.000Z', '2024-05-28T03:00:00.000Z'),
    (30, 11, 1, 'Hieronta 60 min', '2024-06-03T07:00:00.000Z', '2024-06-03T08:00:00.000Z', 'confirmed', 7500, 0, NULL, '2024-05-24T23:30:00.000Z', '2024-05-24T23:30:00.000Z'),
    (31, 12, 1, 'Hieronta 60 min', '2024-06-03T04:00:00.000Z', '2024-06-03T05:00:00.000Z', 'confirmed', 7500, 1, 'uptime monitor''s standing booking', '2024-05-24T02:13:00.000Z', '2024-05-24T02:13:00.000Z'),
    (32, 5, 2, 'Kasvohoito', '2024-06-04T08:00:00.000Z', '2024-06-04T09:15:00.000Z', 'confirmed', 8900, 0, NULL, '2024-05-24T01:56:00.000Z', '2024-05-24T01:56:00.000Z'),
    (33, 1, 1, 'Hieronta 90 min', '2024-06-11T07:00:00.000Z', '2024-06-11T08:30:00.000Z', 'confirmed', 10500, 0, NULL, '2024-05-30T06:39:00.000Z', '2024-05-30T06:39:00.000Z'),
    (34, 6, 1, 'Hieronta 60 min', '2024-06-12T14:00:00.000Z', '2024-06-12T15:00:00.000Z', 'pending', 7500, 0, NULL, '2024-05-30T08:22:00.000Z', '2024-05-30T08:22:00.000Z'),
    (35, 2, 2, 'Hieronta 90 min', '2024-06-19T09:30:00.000Z', '2024-06-19T11:00:00.000Z', 'confirmed', 10500, 0, NULL, '2024-06-04T22:35:00.000Z', '2024-06-04T22:35:00.000Z'),
    (36, 8, 2, 'Hieronta 60 min', '2024-06-21T13:30:00.000Z', '2024-06-21T14:30:00.000Z', 'pending', 7500, 0, NULL, '2024-06-15T09:18:00.000Z', '2024-06-15T09:18:00.000Z'),
    (37, 9, 3, 'Reiki 60 min', '2024-06-25T11:00:00.000Z', '2024-06-25T12:00:00.000Z', 'confirmed', 7000, 0, 'Juhannuksen jälkeen', '2024-06-18T01:31:00.000Z', '2024-06-18T01:31:00.000Z'),
    (38, 4, 3, 'Reiki 60 min', '2024-06-26T12:00:00.000Z', '2024-06-26T13:00:00.000Z', 'pending', 7000, 0, NULL, '2024-06-18T08:14:00.000Z', '2024-06-18T08:14:00.000Z');

-- payments: 27. Payment 6 belongs to cancelled test booking 6 (refund-flow test) and is left behind
-- with it. Payments 7 and 24 are real refunds of real cancellations, carried.
INSERT INTO payments (id, booking_id, amount_cents, currency, method, status, provider_ref, paid_at) VALUES
    (1, 1, 7500, 'EUR', 'mobilepay', 'succeeded', 'mp_3P01001zenni', '2024-04-02T08:03:00.000Z'),
    (2, 2, 10500, 'EUR', 'card', 'succeeded', 'pi_3P02002zenni', '2024-04-03T11:03:00.000Z'),
    (3, 3, 6500, 'EUR', 'cash', 'succeeded', NULL, '2024-04-05T06:48:00.000Z'),
    (4, 4, 3500, 'EUR', 'card', 'succeeded', 'pi_3P04004zenni', '2024-04-06T09:00:00.000Z'),
    (5, 5, 8900, 'EUR', 'card', 'succeeded', 'pi_3P05005zenni', '2024-04-09T09:18:00.000Z'),
    (6, 6, 7500, 'EUR', 'card', 'refunded', 'pi_3P06006zenni', '2024-03-28T20:20:00.000Z'),
    (7, 7, 7500, 'EUR', 'card', 'refunded', 'pi_3P07007zenni', '2024-03-29T11:03:00.000Z'),
    (8, 8, 10500, 'EUR', 'card', 'succeeded', 'pi_3P08008zenni', '2024-04-16T08:33:00.000Z'),
    (9, 9, 7000, 'EUR', 'cash', 'succeeded', NULL, '2024-04-17T11:03:00.000Z'),
    (10, 11, 7500, 'EUR', 'card', 'succeeded', 'pi_3P11010zenni', '2024-04-19T14:33:00.000Z'),
    (11, 12, 10500, 'EUR', 'card', 'succeeded', 'pi_3P12011zenni', '2024-04-24T11:03:00.000Z'),
    (12, 13, 8900, 'EUR', 'gift_card', 'succeeded', NULL, '2024-04-26T12:18:00.000Z'),
    (13, 14, 6500, 'EUR', 'card', 'succeeded', 'pi_3P14013zenni', '2024-04-30T06:48:00.000Z'),
    (14, 17, 7500, 'EUR', 'card', 'succeeded', 'pi_3P17014zenni', '2024-05-06T08:03:00.000Z'),
    (15, 18, 8900, 'EUR', 'card', 'succeeded', 'pi_3P18015zenni', '2024-05-07T09:18:00.000Z'),
    (16, 19, 7000, 'EUR', 'mobilepay', 'succeeded', 'mp_3P19016zenni', '2024-05-08T13:03:00.000Z'),
    (17, 20, 10500, 'EUR', 'card', 'succeeded', 'pi_3P20017zenni', '2024-05-13T15:33:00.000Z'),
    (18, 21, 7500, 'EUR', 'cash', 'succeeded', NULL, '2024-05-14T08:03:00.000Z'),
    (19, 23, 7500, 'EUR', 'card', 'succeeded', 'pi_3P23019zenni', '2024-05-17T14:33:00.000Z'),
    (20, 25, 6500, 'EUR', 'mobilepay', 'succeeded', 'mp_3P25020zenni', '2024-05-21T11:48:00.000Z'),
    (21, 26, 10500, 'EUR', 'card', 'succeeded', 'pi_3P26021zenni', '2024-05-22T11:03:00.000Z'),
    (22, 27, 8900, 'EUR', 'cash', 'succeeded', NULL, '2024-05-24T16:18:00.000Z'),
    (23, 28, 6500, 'EUR', 'mobilepay', 'succeeded', 'mp_3P28023zenni', '2024-05-28T06:48:00.000Z'),
    (24, 29, 7500, 'EUR', 'card', 'refunded', 'pi_3P29024zenni', '2024-05-21T04:49:00.000Z'),
    (25, 33, 10500, 'EUR', 'card', 'succeeded', 'pi_3P33025zenni', '2024-05-30T06:41:00.000Z'),
    (26, 35, 10500, 'EUR', 'card', 'succeeded', 'pi_3P35026zenni', '2024-06-04T22:37:00.000Z'),
    (27, 37, 7000, 'EUR', 'card', 'succeeded', 'pi_3P37027zenni', '2024-06-18T01:33:00.000Z');
