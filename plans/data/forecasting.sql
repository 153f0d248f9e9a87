-- forecasting.sql — fixture for plans/forecasting.yaml (seed 001: PFA Vanguard, a project
-- forecasting tool on Prisma).
--
-- The 12 tables of the seed, in the DDL Prisma's SQLite connector writes: snake_case table names
-- (@@map), camelCase quoted columns, TEXT ids (cuid() for most tables, uuid() for the two log
-- tables), BOOLEAN holding 0/1, Float as REAL, JSON kept as TEXT (the seed keeps it a String),
-- and DateTime declared DATETIME but stored as INTEGER epoch MILLISECONDS — Prisma writes
-- 1764000131482, not '2025-11-24 16:02:11.482'. To read one in SQLite:
--     SELECT datetime("createdAt" / 1000, 'unixepoch') FROM users;
-- "DEFAULT CURRENT_TIMESTAMP" is what Prisma generates for @default(now()); Prisma always sends
-- the value itself, so every stored value is an integer.
--
-- Ids are readable stand-ins for cuids: cm3 + table tag + number (cm3usr...001 is user 1), so a
-- reviewer can follow every foreign key by eye. Row counts follow the seed's analysis where it
-- gave them (7 users, 3 AI providers, 4 data source mappings), smaller elsewhere.
--
-- No traps here: the seed reported "no orphaned records detected", and so does this file
-- (foreign_key_check is clean). The three columns the seed's performance indexes use
-- (isDiscontinued, syncState, success) hold every value those partial indexes care about.
--
-- Rebuilt by plans/data/build.sh; every row is fixed, nothing random.

PRAGMA foreign_keys = ON;

-- CreateTable
CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "email" TEXT,
    "passwordHash" TEXT NOT NULL,
    "firstName" TEXT,
    "lastName" TEXT,
    "role" TEXT NOT NULL DEFAULT 'user',
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "lastLoginAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "organizations" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "isPemsSyncEnabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "user_organizations" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'member',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "user_organizations_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "user_organizations_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ai_providers" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "type" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "apiEndpoint" TEXT NOT NULL,
    "defaultModel" TEXT NOT NULL,
    "isEnabled" BOOLEAN NOT NULL DEFAULT true,
    "inputCostPer1k" REAL NOT NULL DEFAULT 0,
    "outputCostPer1k" REAL NOT NULL DEFAULT 0,
    "priority" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "organization_ai_configs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "primaryProvider" TEXT NOT NULL DEFAULT 'openai',
    "fallbackProvider" TEXT,
    "monthlyBudgetUsd" REAL NOT NULL DEFAULT 0,
    "maxTokensPerRequest" INTEGER NOT NULL DEFAULT 2048,
    "settings" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "organization_ai_configs_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ai_usage_logs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "queryHash" TEXT NOT NULL,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" REAL NOT NULL DEFAULT 0,
    "latencyMs" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL DEFAULT true,
    "errorMessage" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ai_usage_logs_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "api_configurations" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT,
    "name" TEXT NOT NULL,
    "usage" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "authType" TEXT NOT NULL DEFAULT 'basic',
    "authKeyEncrypted" TEXT,
    "authValueEncrypted" TEXT,
    "customHeaders" TEXT,
    "operationType" TEXT NOT NULL DEFAULT 'read',
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "lastCheckedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "api_configurations_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "organization_api_credentials" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "apiConfigurationId" TEXT NOT NULL,
    "authKeyEncrypted" TEXT,
    "authValueEncrypted" TEXT,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "lastUsedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "organization_api_credentials_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "organization_api_credentials_apiConfigurationId_fkey" FOREIGN KEY ("apiConfigurationId") REFERENCES "api_configurations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "data_source_mappings" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "apiConfigId" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 1,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "data_source_mappings_apiConfigId_fkey" FOREIGN KEY ("apiConfigId") REFERENCES "api_configurations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "field_configurations" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT,
    "name" TEXT NOT NULL,
    "fieldMappings" TEXT NOT NULL,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "field_configurations_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "pfa_records" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "pfaId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "areaSilo" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "forecastCategory" TEXT,
    "class" TEXT,
    "source" TEXT NOT NULL,
    "dor" TEXT NOT NULL,
    "isActualized" BOOLEAN NOT NULL DEFAULT false,
    "isDiscontinued" BOOLEAN NOT NULL DEFAULT false,
    "isFundsTransferable" BOOLEAN NOT NULL DEFAULT false,
    "monthlyRate" REAL,
    "purchasePrice" REAL,
    "manufacturer" TEXT,
    "model" TEXT,
    "originalStart" DATETIME NOT NULL,
    "originalEnd" DATETIME NOT NULL,
    "forecastStart" DATETIME NOT NULL,
    "forecastEnd" DATETIME NOT NULL,
    "actualStart" DATETIME,
    "actualEnd" DATETIME,
    "syncState" TEXT NOT NULL DEFAULT 'pristine',
    "lastSyncedAt" DATETIME,
    "modifiedAt" DATETIME,
    "modifiedBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "pfa_records_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "sync_logs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "syncType" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "recordsProcessed" INTEGER NOT NULL DEFAULT 0,
    "recordsInserted" INTEGER NOT NULL DEFAULT 0,
    "recordsUpdated" INTEGER NOT NULL DEFAULT 0,
    "recordsErrored" INTEGER NOT NULL DEFAULT 0,
    "durationMs" INTEGER,
    "errorMessage" TEXT,
    "startedAt" DATETIME NOT NULL,
    "completedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE UNIQUE INDEX "organizations_code_key" ON "organizations"("code");
CREATE UNIQUE INDEX "user_organizations_userId_organizationId_key" ON "user_organizations"("userId", "organizationId");
CREATE INDEX "user_organizations_organizationId_idx" ON "user_organizations"("organizationId");
CREATE UNIQUE INDEX "ai_providers_type_key" ON "ai_providers"("type");
CREATE UNIQUE INDEX "organization_ai_configs_organizationId_key" ON "organization_ai_configs"("organizationId");
CREATE INDEX "ai_usage_logs_userId_idx" ON "ai_usage_logs"("userId");
CREATE INDEX "ai_usage_logs_queryHash_idx" ON "ai_usage_logs"("queryHash");
CREATE INDEX "api_configurations_organizationId_idx" ON "api_configurations"("organizationId");
CREATE UNIQUE INDEX "organization_api_credentials_organizationId_apiConfigurationId_key" ON "organization_api_credentials"("organizationId", "apiConfigurationId");
CREATE INDEX "data_source_mappings_apiConfigId_idx" ON "data_source_mappings"("apiConfigId");
CREATE INDEX "field_configurations_organizationId_idx" ON "field_configurations"("organizationId");
CREATE UNIQUE INDEX "pfa_records_organizationId_pfaId_key" ON "pfa_records"("organizationId", "pfaId");
CREATE INDEX "pfa_records_organizationId_idx" ON "pfa_records"("organizationId");
CREATE INDEX "pfa_records_syncState_idx" ON "pfa_records"("syncState");
CREATE INDEX "sync_logs_organizationId_startedAt_idx" ON "sync_logs"("organizationId", "startedAt");

-- ---------------------------------------------------------------------------------------------
-- Rows. Inserted parents first, so the file also loads with PRAGMA foreign_keys = ON.

-- _prisma_migrations: Prisma's bookkeeping for the SQLite migrations (left behind by the plan).
INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES
    ('0f3c2f4e-4a1b-4e0f-9a55-3c1d2e000001', 'b3c0a9d1e2f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0', 1759305492480, '20251001075800_init', NULL, NULL, 1759305492301, 1),
    ('0f3c2f4e-4a1b-4e0f-9a55-3c1d2e000002', 'c4d1b0e2f3a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1', 1760951680112, '20251020091400_ai_usage', NULL, NULL, 1760951680020, 1),
    ('0f3c2f4e-4a1b-4e0f-9a55-3c1d2e000003', 'd5e2c1f3a4b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2', 1762325403777, '20251105065000_pfa_sync_state', NULL, NULL, 1762325403601, 1);

-- users: 7 accounts. tlindgren is deactivated (isActive = 0), not deleted; rpatel never logged in.
INSERT INTO "users" ("id", "username", "email", "passwordHash", "firstName", "lastName", "role", "isActive", "lastLoginAt", "createdAt", "updatedAt") VALUES
    ('cm3usr0000000000000000001', 'admin', 'admin@pfa-vanguard.example', '$2b$10$YWRtaW4uYmNyeXB0LnBsYWNlaG9sZGVyLjAwMDAwMDAwMDAwMDAx', 'System', 'Administrator', 'admin', 1, 1764000131482, 1759305600000, 1764000131482),
    ('cm3usr0000000000000000002', 'jmartinez', 'j.martinez@pfa-vanguard.example', '$2b$10$am1hcnRpbmV6LmJjcnlwdC5wbGFjZWhvbGRlci4wMDAwMDAwMDAy', 'Julia', 'Martinez', 'manager', 1, 1763732709007, 1759396500000, 1763732709007),
    ('cm3usr0000000000000000003', 'dokafor', 'd.okafor@pfa-vanguard.example', '$2b$10$ZG9rYWZvci5iY3J5cHQucGxhY2Vob2xkZXIuMDAwMDAwMDAwMDAz', 'David', 'Okafor', 'planner', 1, 1763623844120, 1759396800000, 1763623844120),
    ('cm3usr0000000000000000004', 'schen', 's.chen@pfa-vanguard.example', '$2b$10$c2NoZW4uYmNyeXB0LnBsYWNlaG9sZGVyLjAwMDAwMDAwMDAwMDA0', 'Sarah', 'Chen', 'planner', 1, 1763460720000, 1759748400000, 1763460720000),
    ('cm3usr0000000000000000005', 'rpatel', 'r.patel@pfa-vanguard.example', '$2b$10$cnBhdGVsLmJjcnlwdC5wbGFjZWhvbGRlci4wMDAwMDAwMDAwMDA1', 'Raj', 'Patel', 'viewer', 1, NULL, 1760456400000, 1760456400000),
    ('cm3usr0000000000000000006', 'beo.analyst', NULL, '$2b$10$YmVvLmFuYWx5c3QuYmNyeXB0LnBsYWNlaG9sZGVyLjAwMDAwMDA2', 'BEO', 'Analyst', 'beo_user', 1, 1763571933900, 1760947200000, 1763571933900),
    ('cm3usr0000000000000000007', 'tlindgren', 't.lindgren@pfa-vanguard.example', '$2b$10$dGxpbmRncmVuLmJjcnlwdC5wbGFjZWhvbGRlci4wMDAwMDAwMDA3', 'Tove', 'Lindgren', 'planner', 0, 1761825600000, 1759485600000, 1762160400000);

-- organizations: 8 of the 28 production projects; CORPUS is inactive.
INSERT INTO "organizations" ("id", "code", "name", "description", "isActive", "isPemsSyncEnabled", "createdAt", "updatedAt") VALUES
    ('cm3org0000000000000000001', 'HOLNG', 'Holloway LNG Terminal', 'Liquefaction train 3 expansion', 1, 1, 1759305900000, 1763625600000),
    ('cm3org0000000000000000002', 'RIO', 'Rio Grande Refinery Turnaround', '2026 major turnaround', 1, 1, 1759305960000, 1763562600000),
    ('cm3org0000000000000000003', 'PORTARTHUR', 'Port Arthur Petrochemical', NULL, 1, 1, 1759306020000, 1759306020000),
    ('cm3org0000000000000000004', 'BAYTOWN', 'Baytown Olefins Debottleneck', NULL, 1, 0, 1759306080000, 1759306080000),
    ('cm3org0000000000000000005', 'FREEPORT', 'Freeport Marine Terminal', 'Jetty 4 rebuild', 1, 0, 1759306140000, 1759306140000),
    ('cm3org0000000000000000006', 'LAKECHARLES', 'Lake Charles Hydrogen Hub', NULL, 1, 0, 1759306200000, 1759306200000),
    ('cm3org0000000000000000007', 'CORPUS', 'Corpus Christi Pipeline Loop', 'On hold since Q3', 0, 0, 1759306260000, 1761998400000),
    ('cm3org0000000000000000008', 'BEO', 'Business Enterprise Overview', 'Portfolio-level read access', 1, 0, 1759306320000, 1759306320000);

-- user_organizations: 12 memberships; (userId, organizationId) is unique.
INSERT INTO "user_organizations" ("id", "userId", "organizationId", "role", "createdAt") VALUES
    ('cm3uo00000000000000000001', 'cm3usr0000000000000000001', 'cm3org0000000000000000001', 'owner', 1759482000000),
    ('cm3uo00000000000000000002', 'cm3usr0000000000000000001', 'cm3org0000000000000000002', 'owner', 1759568400000),
    ('cm3uo00000000000000000003', 'cm3usr0000000000000000001', 'cm3org0000000000000000003', 'owner', 1759654800000),
    ('cm3uo00000000000000000004', 'cm3usr0000000000000000001', 'cm3org0000000000000000008', 'owner', 1759741200000),
    ('cm3uo00000000000000000005', 'cm3usr0000000000000000002', 'cm3org0000000000000000001', 'owner', 1759827600000),
    ('cm3uo00000000000000000006', 'cm3usr0000000000000000002', 'cm3org0000000000000000002', 'admin', 1759914000000),
    ('cm3uo00000000000000000007', 'cm3usr0000000000000000003', 'cm3org0000000000000000001', 'member', 1760000400000),
    ('cm3uo00000000000000000008', 'cm3usr0000000000000000004', 'cm3org0000000000000000002', 'member', 1760086800000),
    ('cm3uo00000000000000000009', 'cm3usr0000000000000000004', 'cm3org0000000000000000003', 'member', 1760173200000),
    ('cm3uo00000000000000000010', 'cm3usr0000000000000000005', 'cm3org0000000000000000001', 'viewer', 1760259600000),
    ('cm3uo00000000000000000011', 'cm3usr0000000000000000006', 'cm3org0000000000000000008', 'member', 1760346000000),
    ('cm3uo00000000000000000012', 'cm3usr0000000000000000007', 'cm3org0000000000000000002', 'member', 1760432400000);

-- ai_providers: the three LLM back ends; costs are USD per 1,000 tokens (REAL).
INSERT INTO "ai_providers" ("id", "type", "name", "apiEndpoint", "defaultModel", "isEnabled", "inputCostPer1k", "outputCostPer1k", "priority", "createdAt", "updatedAt") VALUES
    ('cm3aip0000000000000000001', 'openai', 'OpenAI', 'https://api.openai.example/v1', 'gpt-4o-mini', 1, 0.00015, 0.0006, 1, 1759307400000, 1759307400000),
    ('cm3aip0000000000000000002', 'anthropic', 'Anthropic', 'https://api.anthropic.example/v1', 'claude-3-5-haiku', 1, 0.0008, 0.004, 2, 1759307400000, 1762941600000),
    ('cm3aip0000000000000000003', 'gemini', 'Google Gemini', 'https://generativelanguage.example/v1beta', 'gemini-1.5-flash', 0, 7.5e-05, 0.0003, 3, 1759307400000, 1759307400000);

-- organization_ai_configs: one per organization at most (organizationId is unique).
-- settings is JSON kept as text, as the Prisma schema declares it (String).
INSERT INTO "organization_ai_configs" ("id", "organizationId", "enabled", "primaryProvider", "fallbackProvider", "monthlyBudgetUsd", "maxTokensPerRequest", "settings", "createdAt", "updatedAt") VALUES
    ('cm3oac0000000000000000001', 'cm3org0000000000000000001', 1, 'openai', 'anthropic', 250.0, 4096, '{"temperature":0.2,"cacheTtlSeconds":3600}', 1759658400000, 1762941900000),
    ('cm3oac0000000000000000002', 'cm3org0000000000000000002', 1, 'anthropic', NULL, 100.0, 2048, '{"temperature":0.1}', 1759744800000, 1759744800000),
    ('cm3oac0000000000000000003', 'cm3org0000000000000000008', 0, 'openai', NULL, 0.0, 1024, NULL, 1761040800000, 1761040800000);

-- ai_usage_logs: uuid ids. organizationId is a plain column (no foreign key), as in the Prisma
-- schema; every value still names an existing organization. Rows 3 and 12 are cache hits (0 tokens).
INSERT INTO "ai_usage_logs" ("id", "userId", "organizationId", "provider", "model", "queryHash", "promptTokens", "completionTokens", "costUsd", "latencyMs", "success", "errorMessage", "createdAt") VALUES
    ('47efc8c1-a177-41e6-804f-ca6bed005084', 'cm3usr0000000000000000001', 'cm3org0000000000000000001', 'openai', 'gpt-4o-mini', '3f9a1c0e8b2d4a61', 812, 164, 0.00022, 1180, 1, NULL, 1763456472331),
    ('1664cad6-ab9d-4ae3-870f-2231c6c669e9', 'cm3usr0000000000000000002', 'cm3org0000000000000000001', 'openai', 'gpt-4o-mini', 'a07c55e2d9f14b38', 1530, 402, 0.00047, 2210, 1, NULL, 1763475760017),
    ('2b008351-a9e5-4294-9a30-215055154df7', 'cm3usr0000000000000000002', 'cm3org0000000000000000001', 'openai', 'gpt-4o-mini', 'a07c55e2d9f14b38', 0, 0, 0.0, 35, 1, NULL, 1763475902904),
    ('3fc5e490-dc80-4b11-ba6d-abfc188f1af8', 'cm3usr0000000000000000003', 'cm3org0000000000000000002', 'anthropic', 'claude-3-5-haiku', '5be0d1aa47c3e902', 2210, 515, 0.00383, 3410, 1, NULL, 1763542075120),
    ('19d68d92-1580-44f4-abde-e3c0def017b7', 'cm3usr0000000000000000003', 'cm3org0000000000000000002', 'anthropic', 'claude-3-5-haiku', 'c19e7f03b6a85d24', 640, 0, 0.0, 30012, 0, 'upstream timeout after 30s', 1763542330000),
    ('fed570a2-965a-41eb-b120-5de475053a7e', 'cm3usr0000000000000000003', 'cm3org0000000000000000002', 'openai', 'gpt-4o-mini', 'c19e7f03b6a85d24', 640, 210, 0.00022, 1650, 1, NULL, 1763542361870),
    ('e5a613ae-ca79-4b80-9cc1-7fd466807261', 'cm3usr0000000000000000001', 'cm3org0000000000000000008', 'openai', 'gpt-4o-mini', '0d4418be93a2c7f5', 3012, 880, 0.00098, 4020, 1, NULL, 1763637003005),
    ('c87edb6c-11b5-47a9-a418-59c79ccbe03c', 'cm3usr0000000000000000006', 'cm3org0000000000000000008', 'openai', 'gpt-4o-mini', '77e2b90c1f5ad346', 450, 120, 0.00014, 990, 1, NULL, 1763656819600),
    ('5196d21a-9a99-4d4c-88f8-22f56db5a1a6', 'cm3usr0000000000000000004', 'cm3org0000000000000000003', 'openai', 'gpt-4o-mini', 'e4c1a6d0b7f23985', 980, 300, 0.00033, 1420, 1, NULL, 1763719550250),
    ('253c3d1e-a63c-4f6c-9061-2ddeea60f0a9', 'cm3usr0000000000000000002', 'cm3org0000000000000000001', 'anthropic', 'claude-3-5-haiku', '9a3f0e5c2b1d7648', 4100, 1200, 0.00808, 5630, 1, NULL, 1763732400480),
    ('e74fab5b-0f55-4da5-a52e-314959ccd7a8', 'cm3usr0000000000000000002', 'cm3org0000000000000000001', 'anthropic', 'claude-3-5-haiku', '2c7b4e9f0a1d5e36', 120, 0, 0.0, 210, 0, 'invalid API key', 1763794801001),
    ('82ace65b-fff7-4832-80ac-5a8cd6737ee3', 'cm3usr0000000000000000001', 'cm3org0000000000000000001', 'openai', 'gpt-4o-mini', '3f9a1c0e8b2d4a61', 0, 0, 0.0, 28, 1, NULL, 1764000210999);

-- api_configurations: 6 (the seed had 10). organizationId NULL = shared by every organization.
-- auth*Encrypted hold ciphertext: carried byte for byte, and the app's encryption key must not change.
INSERT INTO "api_configurations" ("id", "organizationId", "name", "usage", "url", "authType", "authKeyEncrypted", "authValueEncrypted", "customHeaders", "operationType", "isActive", "lastCheckedAt", "createdAt", "updatedAt") VALUES
    ('cm3api0000000000000000001', NULL, 'PEMS Global Read', 'PEMS_READ', 'https://pems.example.com/api/v2/pfa', 'basic', NULL, NULL, '{"Accept":"application/json"}', 'read', 1, 1763964000000, 1759309200000, 1763964000000),
    ('cm3api0000000000000000002', NULL, 'PEMS Global Write', 'PEMS_WRITE', 'https://pems.example.com/api/v2/pfa/batch', 'basic', NULL, NULL, '{"Accept":"application/json","X-Batch-Size":"500"}', 'write', 1, NULL, 1759309200000, 1759309200000),
    ('cm3api0000000000000000003', 'cm3org0000000000000000001', 'HOLNG Procurement Feed', 'PROCUREMENT', 'https://erp.holloway.example/odata/PurchaseOrders', 'bearer', 'enc:v1:aG9sbmcta2V5LWlk', 'enc:v1:c2VjcmV0LXRva2VuLWhvbG5nLTAx', NULL, 'read', 1, 1763935200000, 1759654800000, 1763935200000),
    ('cm3api0000000000000000004', 'cm3org0000000000000000002', 'RIO Rental Rates', 'RATES', 'https://rates.rio.example/v1/equipment', 'api_key', 'enc:v1:cmlvLWtleS1pZA', 'enc:v1:c2VjcmV0LXRva2VuLXJpby0wMg', '{"X-Region":"US-TX"}', 'read', 1, 1763614800000, 1759741200000, 1763614800000),
    ('cm3api0000000000000000005', 'cm3org0000000000000000002', 'RIO Legacy CSV Drop', 'CSV_IMPORT', 'sftp://files.rio.example/pfa/incoming', 'none', NULL, NULL, NULL, 'read', 0, NULL, 1759743000000, 1761667200000),
    ('cm3api0000000000000000006', 'cm3org0000000000000000003', 'PORTARTHUR Crane Schedule', 'SCHEDULE', 'https://cranes.portarthur.example/api/schedule', 'bearer', 'enc:v1:cG9ydGFydGh1ci1rZXk', 'enc:v1:c2VjcmV0LXRva2VuLXBhLTAz', NULL, 'read', 1, 1763812800000, 1759914000000, 1763812800000);

-- organization_api_credentials: per-organization logins for the shared PEMS configurations;
-- (organizationId, apiConfigurationId) is unique.
INSERT INTO "organization_api_credentials" ("id", "organizationId", "apiConfigurationId", "authKeyEncrypted", "authValueEncrypted", "isActive", "lastUsedAt", "createdAt", "updatedAt") VALUES
    ('cm3cred000000000000000001', 'cm3org0000000000000000001', 'cm3api0000000000000000001', 'enc:v1:aG9sbmctcGVtcy11c2Vy', 'enc:v1:aG9sbmctcGVtcy1wYXNzd29yZA', 1, 1763964000000, 1759656600000, 1763964000000),
    ('cm3cred000000000000000002', 'cm3org0000000000000000001', 'cm3api0000000000000000002', 'enc:v1:aG9sbmctcGVtcy11c2Vy', 'enc:v1:aG9sbmctcGVtcy1wYXNzd29yZA', 1, NULL, 1759656600000, 1759656600000),
    ('cm3cred000000000000000003', 'cm3org0000000000000000002', 'cm3api0000000000000000001', 'enc:v1:cmlvLXBlbXMtdXNlcg', 'enc:v1:cmlvLXBlbXMtcGFzc3dvcmQ', 1, 1763877600000, 1759743900000, 1763877600000),
    ('cm3cred000000000000000004', 'cm3org0000000000000000003', 'cm3api0000000000000000001', 'enc:v1:cGEtcGVtcy11c2Vy', 'enc:v1:cGEtcGVtcy1wYXNzd29yZA', 0, NULL, 1759915800000, 1761991200000);

-- data_source_mappings: which configuration feeds which entity; 4 rows as in the seed.
INSERT INTO "data_source_mappings" ("id", "apiConfigId", "entityType", "priority", "isActive", "createdAt", "updatedAt") VALUES
    ('cm3dsm0000000000000000001', 'cm3api0000000000000000001', 'pfa', 1, 1, 1760097600000, 1760097600000),
    ('cm3dsm0000000000000000002', 'cm3api0000000000000000003', 'procurement', 1, 1, 1760097600000, 1760097600000),
    ('cm3dsm0000000000000000003', 'cm3api0000000000000000004', 'rates', 1, 1, 1760097600000, 1760097600000),
    ('cm3dsm0000000000000000004', 'cm3api0000000000000000005', 'rates', 2, 0, 1760097600000, 1760097600000);

-- field_configurations: the global default (organizationId NULL) and one override. JSON as text.
INSERT INTO "field_configurations" ("id", "organizationId", "name", "fieldMappings", "isDefault", "createdAt", "updatedAt") VALUES
    ('cm3fcfg000000000000000001', NULL, 'Default PFA columns', '{"monthlyRate":{"label":"Monthly rate","format":"currency"},"forecastStart":{"label":"Forecast start","format":"date"}}', 1, 1759311000000, 1759311000000),
    ('cm3fcfg000000000000000002', 'cm3org0000000000000000002', 'RIO turnaround view', '{"areaSilo":{"label":"Unit"},"category":{"label":"Craft"},"monthlyRate":{"label":"Rate (USD/mo)","format":"currency"}}', 0, 1760533200000, 1762073100000);

-- pfa_records: 30 forecast lines over three organizations (production had none yet; these show the
-- shape). Rental lines have a monthlyRate, purchases a purchasePrice. Three lines are discontinued;
-- syncState is one of pristine, modified, pending_sync, synced. Dates are midnight UTC in epoch ms.
INSERT INTO "pfa_records" ("id", "pfaId", "organizationId", "areaSilo", "category", "forecastCategory", "class", "source", "dor", "isActualized", "isDiscontinued", "isFundsTransferable", "monthlyRate", "purchasePrice", "manufacturer", "model", "originalStart", "originalEnd", "forecastStart", "forecastEnd", "actualStart", "actualEnd", "syncState", "lastSyncedAt", "modifiedAt", "modifiedBy", "createdAt", "updatedAt") VALUES
    ('cm3pfa0000000000000000001', 'PFA-HOLNG-1017', 'cm3org0000000000000000001', 'Train 3', 'Compressors', 'Air', 'COM-2', 'Rental', 'PROJECT', 1, 0, 1, 5400.25, NULL, 'Atlas Copco', 'XAS 1800', 1769904000000, 1780099200000, 1769904000000, 1780099200000, 1769904000000, NULL, 'synced', 1762668000000, 1762852033037, NULL, 1762326000000, 1762852033037),
    ('cm3pfa0000000000000000002', 'PFA-HOLNG-1034', 'cm3org0000000000000000001', 'Jetty', 'Forklifts', 'Material Handling', 'FOR-3', 'Rental', 'PROJECT', 0, 0, 1, 4200.0, NULL, 'JLG', 'G12-55A', 1772323200000, 1785369600000, 1773532800000, 1786579200000, NULL, NULL, 'synced', 1762754400000, 1762942466074, NULL, 1762326000000, 1762942466074),
    ('cm3pfa0000000000000000003', 'PFA-HOLNG-1051', 'cm3org0000000000000000001', 'Utilities', 'Scaffolding', 'Access', 'SCA-1', 'Purchase', 'PROJECT', 0, 0, 1, NULL, 19250.0, 'Layher', 'Allround', 1775001600000, 1790726400000, 1774396800000, 1790121600000, NULL, NULL, 'modified', 1762840800000, 1763032899111, 'cm3usr0000000000000000002', 1762326000000, 1763032899111),
    ('cm3pfa0000000000000000004', 'PFA-HOLNG-1068', 'cm3org0000000000000000001', 'Train 3', 'Welding', 'Fabrication', 'WEL-2', 'Rental', 'PROJECT', 0, 0, 0, 1150.75, NULL, 'Lincoln', 'Vantage 500', 1777593600000, 1795996800000, 1780185600000, 1798588800000, NULL, NULL, 'pending_sync', 1762927200000, 1763123332148, 'cm3usr0000000000000000003', 1762326000000, 1763123332148),
    ('cm3pfa0000000000000000005', 'PFA-HOLNG-1085', 'cm3org0000000000000000001', 'Jetty', 'Pumps', 'Fluids', 'PUM-3', 'Rental', 'PROJECT', 0, 1, 1, 2650.5, NULL, 'Godwin', 'CD150M', 1780272000000, 1788048000000, 1780272000000, 1788048000000, NULL, NULL, 'synced', 1763013600000, 1763213705185, NULL, 1762326000000, 1763213705185),
    ('cm3pfa0000000000000000006', 'PFA-HOLNG-1102', 'cm3org0000000000000000001', 'Utilities', 'Generators', 'Power', 'GEN-1', 'Rental', 'PROJECT', 0, 0, 1, 7800.0, NULL, 'Caterpillar', 'XQ500', 1782864000000, 1793318400000, 1782864000000, 1793318400000, NULL, NULL, 'pristine', NULL, 1763304138222, NULL, 1762326000000, 1763304138222),
    ('cm3pfa0000000000000000007', 'PFA-HOLNG-1119', 'cm3org0000000000000000001', 'Train 3', 'Light Towers', 'Site', 'LIG-2', 'Rental', 'BEO', 1, 0, 1, 890.0, NULL, 'Generac', 'MLT6SMD', 1785542400000, 1798588800000, 1787356800000, 1800403200000, 1787356800000, NULL, 'modified', 1763186400000, 1763394571259, 'cm3usr0000000000000000003', 1762326000000, 1763394571259),
    ('cm3pfa0000000000000000008', 'PFA-HOLNG-1136', 'cm3org0000000000000000001', 'Jetty', 'Cranes', 'Heavy Lift', 'CRA-3', 'Purchase', 'PROJECT', 0, 0, 0, NULL, 18500.0, 'Liebherr', 'LTM 1300-6.2', 1788220800000, 1798588800000, 1788220800000, 1798588800000, NULL, NULL, 'synced', 1763272800000, 1763485004296, NULL, 1762326000000, 1763485004296),
    ('cm3pfa0000000000000000009', 'PFA-HOLNG-1153', 'cm3org0000000000000000001', 'Utilities', 'Compressors', 'Air', 'COM-1', 'Rental', 'PROJECT', 0, 0, 1, 5400.25, NULL, 'Atlas Copco', 'XAS 1800', 1767225600000, 1785369600000, 1767830400000, 1785974400000, NULL, NULL, 'pending_sync', 1763359200000, 1763539437333, 'cm3usr0000000000000000002', 1762326000000, 1763539437333),
    ('cm3pfa0000000000000000010', 'PFA-HOLNG-1170', 'cm3org0000000000000000001', 'Train 3', 'Forklifts', 'Material Handling', 'FOR-2', 'Rental', 'PROJECT', 0, 0, 1, 4200.0, NULL, 'JLG', 'G12-55A', 1769904000000, 1777507200000, 1769904000000, 1777507200000, NULL, NULL, 'pristine', NULL, 1763629810370, NULL, 1762326000000, 1763629810370),
    ('cm3pfa0000000000000000011', 'PFA-HOLNG-1187', 'cm3org0000000000000000001', 'Jetty', 'Scaffolding', 'Access', 'SCA-3', 'Rental', 'PROJECT', 0, 0, 1, 3250.5, NULL, 'Layher', 'Allround', 1772323200000, 1782777600000, 1772323200000, 1782777600000, NULL, NULL, 'synced', 1762668000000, 1763720243407, NULL, 1762326000000, 1763720243407),
    ('cm3pfa0000000000000000012', 'PFA-HOLNG-1204', 'cm3org0000000000000000001', 'Utilities', 'Welding', 'Fabrication', 'WEL-1', 'Rental', 'PROJECT', 0, 0, 0, 1150.75, NULL, 'Lincoln', 'Vantage 500', 1775001600000, 1788048000000, 1776211200000, 1789257600000, NULL, NULL, 'synced', 1762754400000, 1763810676444, NULL, 1762326000000, 1763810676444),
    ('cm3pfa0000000000000000013', 'PFA-RIO-1221', 'cm3org0000000000000000002', 'Crude Unit', 'Pumps', 'Fluids', 'PUM-2', 'Purchase', 'PROJECT', 1, 0, 1, NULL, 18750.0, 'Godwin', 'CD150M', 1777593600000, 1793318400000, 1776988800000, 1792713600000, 1776988800000, NULL, 'modified', 1762840800000, 1763901109481, 'cm3usr0000000000000000003', 1762326000000, 1763901109481),
    ('cm3pfa0000000000000000014', 'PFA-RIO-1238', 'cm3org0000000000000000002', 'FCC', 'Generators', 'Power', 'GEN-3', 'Rental', 'BEO', 0, 0, 1, 7800.0, NULL, 'Caterpillar', 'XQ500', 1780272000000, 1798588800000, 1782864000000, 1801180800000, NULL, NULL, 'pending_sync', 1762927200000, 1762781882518, 'cm3usr0000000000000000004', 1762326000000, 1762781882518),
    ('cm3pfa0000000000000000015', 'PFA-RIO-1255', 'cm3org0000000000000000002', 'Alky', 'Light Towers', 'Site', 'LIG-1', 'Rental', 'PROJECT', 0, 0, 1, 890.0, NULL, 'Generac', 'MLT6SMD', 1782864000000, 1790726400000, 1782864000000, 1790726400000, NULL, NULL, 'synced', 1763013600000, 1762872315555, NULL, 1762326000000, 1762872315555),
    ('cm3pfa0000000000000000016', 'PFA-RIO-1272', 'cm3org0000000000000000002', 'Crude Unit', 'Cranes', 'Heavy Lift', 'CRA-2', 'Rental', 'PROJECT', 0, 0, 0, 48500.0, NULL, 'Liebherr', 'LTM 1300-6.2', 1785542400000, 1795996800000, 1785542400000, 1795996800000, NULL, NULL, 'pristine', NULL, 1762962748592, NULL, 1762326000000, 1762962748592),
    ('cm3pfa0000000000000000017', 'PFA-RIO-1289', 'cm3org0000000000000000002', 'FCC', 'Compressors', 'Air', 'COM-3', 'Rental', 'PROJECT', 0, 1, 1, 5400.25, NULL, 'Atlas Copco', 'XAS 1800', 1788220800000, 1798588800000, 1790035200000, 1800403200000, NULL, NULL, 'synced', 1763186400000, 1763053181629, NULL, 1762326000000, 1763053181629),
    ('cm3pfa0000000000000000018', 'PFA-RIO-1306', 'cm3org0000000000000000002', 'Alky', 'Forklifts', 'Material Handling', 'FOR-1', 'Purchase', 'PROJECT', 0, 0, 1, NULL, 19000.0, 'JLG', 'G12-55A', 1767225600000, 1782777600000, 1767225600000, 1782777600000, NULL, NULL, 'synced', 1763272800000, 1763107614666, NULL, 1762326000000, 1763107614666),
    ('cm3pfa0000000000000000019', 'PFA-RIO-1323', 'cm3org0000000000000000002', 'Crude Unit', 'Scaffolding', 'Access', 'SCA-2', 'Rental', 'PROJECT', 1, 0, 1, 3250.5, NULL, 'Layher', 'Allround', 1769904000000, 1788048000000, 1770508800000, 1788652800000, 1770508800000, NULL, 'pending_sync', 1763359200000, 1763197987703, 'cm3usr0000000000000000003', 1762326000000, 1763197987703),
    ('cm3pfa0000000000000000020', 'PFA-RIO-1340', 'cm3org0000000000000000002', 'FCC', 'Welding', 'Fabrication', 'WEL-3', 'Rental', 'PROJECT', 0, 0, 0, 1150.75, NULL, 'Lincoln', 'Vantage 500', 1772323200000, 1780099200000, 1772323200000, 1780099200000, NULL, NULL, 'pristine', NULL, 1763288420740, NULL, 1762326000000, 1763288420740),
    ('cm3pfa0000000000000000021', 'PFA-RIO-1357', 'cm3org0000000000000000002', 'Alky', 'Pumps', 'Fluids', 'PUM-1', 'Rental', 'BEO', 0, 0, 1, 2650.5, NULL, 'Godwin', 'CD150M', 1775001600000, 1785369600000, 1775001600000, 1785369600000, NULL, NULL, 'synced', 1762668000000, 1763378853777, NULL, 1762326000000, 1763378853777),
    ('cm3pfa0000000000000000022', 'PFA-RIO-1374', 'cm3org0000000000000000002', 'Crude Unit', 'Generators', 'Power', 'GEN-2', 'Rental', 'PROJECT', 0, 0, 1, 7800.0, NULL, 'Caterpillar', 'XQ500', 1777593600000, 1790726400000, 1778803200000, 1791936000000, NULL, NULL, 'synced', 1762754400000, 1763469286814, NULL, 1762326000000, 1763469286814),
    ('cm3pfa0000000000000000023', 'PFA-RIO-1391', 'cm3org0000000000000000002', 'FCC', 'Light Towers', 'Site', 'LIG-3', 'Purchase', 'PROJECT', 0, 0, 1, NULL, 19250.0, 'Generac', 'MLT6SMD', 1780272000000, 1795996800000, 1779667200000, 1795392000000, NULL, NULL, 'modified', 1762840800000, 1763559719851, 'cm3usr0000000000000000004', 1762326000000, 1763559719851),
    ('cm3pfa0000000000000000024', 'PFA-RIO-1408', 'cm3org0000000000000000002', 'Alky', 'Cranes', 'Heavy Lift', 'CRA-1', 'Rental', 'PROJECT', 0, 0, 0, 48500.0, NULL, 'Liebherr', 'LTM 1300-6.2', 1782864000000, 1798588800000, 1785456000000, 1801180800000, NULL, NULL, 'pending_sync', 1762927200000, 1763650092888, 'cm3usr0000000000000000002', 1762326000000, 1763650092888),
    ('cm3pfa0000000000000000025', 'PFA-PA-1425', 'cm3org0000000000000000003', 'Cracker', 'Compressors', 'Air', 'COM-2', 'Rental', 'PROJECT', 0, 0, 1, 5400.25, NULL, 'Atlas Copco', 'XAS 1800', 1785542400000, 1793318400000, 1785542400000, 1793318400000, NULL, NULL, 'synced', 1763013600000, 1763740525925, NULL, 1762326000000, 1763740525925),
    ('cm3pfa0000000000000000026', 'PFA-PA-1442', 'cm3org0000000000000000003', 'Tank Farm', 'Forklifts', 'Material Handling', 'FOR-3', 'Rental', 'PROJECT', 0, 1, 1, 4200.0, NULL, 'JLG', 'G12-55A', 1788220800000, 1798588800000, 1788220800000, 1798588800000, NULL, NULL, 'synced', 1763100000000, 1763827358962, NULL, 1762326000000, 1763827358962),
    ('cm3pfa0000000000000000027', 'PFA-PA-1459', 'cm3org0000000000000000003', 'Cracker', 'Scaffolding', 'Access', 'SCA-1', 'Rental', 'PROJECT', 0, 0, 1, 3250.5, NULL, 'Layher', 'Allround', 1767225600000, 1780099200000, 1769040000000, 1781913600000, NULL, NULL, 'modified', 1763186400000, 1763885391999, 'cm3usr0000000000000000002', 1762326000000, 1763885391999),
    ('cm3pfa0000000000000000028', 'PFA-PA-1476', 'cm3org0000000000000000003', 'Tank Farm', 'Welding', 'Fabrication', 'WEL-2', 'Purchase', 'BEO', 0, 0, 0, NULL, 18500.0, 'Lincoln', 'Vantage 500', 1769904000000, 1785369600000, 1769904000000, 1785369600000, NULL, NULL, 'synced', 1763272800000, 1762766164036, NULL, 1762326000000, 1762766164036),
    ('cm3pfa0000000000000000029', 'PFA-PA-1493', 'cm3org0000000000000000003', 'Cracker', 'Pumps', 'Fluids', 'PUM-3', 'Rental', 'PROJECT', 0, 0, 1, 2650.5, NULL, 'Godwin', 'CD150M', 1772323200000, 1790726400000, 1772928000000, 1791331200000, NULL, NULL, 'pending_sync', 1763359200000, 1762856597073, 'cm3usr0000000000000000004', 1762326000000, 1762856597073),
    ('cm3pfa0000000000000000030', 'PFA-PA-1510', 'cm3org0000000000000000003', 'Tank Farm', 'Generators', 'Power', 'GEN-1', 'Rental', 'PROJECT', 0, 0, 1, 7800.0, NULL, 'Caterpillar', 'XQ500', 1775001600000, 1782777600000, 1775001600000, 1782777600000, NULL, NULL, 'pristine', NULL, 1762947030110, NULL, 1762326000000, 1762947030110);

-- sync_logs: no foreign keys in the schema; organizationId still names real organizations.
-- The last sync is still running (completedAt NULL).
INSERT INTO "sync_logs" ("id", "organizationId", "syncType", "status", "recordsProcessed", "recordsInserted", "recordsUpdated", "recordsErrored", "durationMs", "errorMessage", "startedAt", "completedAt", "createdAt") VALUES
    ('686ebb83-1010-4222-9dbb-a24cbda24af5', 'cm3org0000000000000000001', 'pfa_full', 'success', 12, 12, 0, 0, 4210, NULL, 1762581600000, 1762581604210, 1762581600000),
    ('cbf6b960-56d4-4b3c-b609-7c6474c982fa', 'cm3org0000000000000000002', 'pfa_full', 'success', 12, 12, 0, 0, 3980, NULL, 1762581900000, 1762581903980, 1762581900000),
    ('da5ddfe2-1695-41ee-91e0-a66eeb385473', 'cm3org0000000000000000003', 'pfa_full', 'partial', 6, 5, 0, 1, 2750, 'PFA-PA-1459: unknown class CRA-9', 1762582200000, 1762582202750, 1762582200000),
    ('aea59e45-6581-4796-9c08-2c8694b3f204', 'cm3org0000000000000000001', 'pfa_incremental', 'success', 4, 0, 4, 0, 905, NULL, 1763359200000, 1763359200905, 1763359200000),
    ('e9ed04e4-b9fe-4fae-9d90-e21ae3a79316', 'cm3org0000000000000000002', 'pfa_incremental', 'failed', 0, 0, 0, 0, 30000, 'PEMS responded 503 Service Unavailable', 1763445600000, 1763445630000, 1763445600000),
    ('4803c62a-b489-4bbf-a91e-c2ecbbc59c15', 'cm3org0000000000000000002', 'pfa_incremental', 'running', 0, 0, 0, 0, NULL, NULL, 1763964000000, NULL, 1763964000000);
