-- Orleans ADO.NET tables and queries for PostgreSQL (cluster mode): membership, grain storage, reminders.
-- Orleans reads its SQL from OrleansQuery; the parameter and column names below are its contract.
CREATE TABLE OrleansQuery
(
    QueryKey varchar(64) NOT NULL PRIMARY KEY,
    QueryText text NOT NULL
);

-- Membership ------------------------------------------------------------------------------------------------
CREATE TABLE OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL PRIMARY KEY,
    Timestamp timestamptz(3) NOT NULL DEFAULT now(),
    Version integer NOT NULL DEFAULT 0
);

CREATE TABLE OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
    Address varchar(45) NOT NULL,
    Port integer NOT NULL,
    Generation integer NOT NULL,
    SiloName varchar(150) NOT NULL,
    HostName varchar(150) NOT NULL,
    Status integer NOT NULL,
    ProxyPort integer NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Inserting a silo and bumping the table version happen together or not at all (answers 1 or 0).
CREATE FUNCTION modulith_insert_membership(
    p_deployment varchar, p_address varchar, p_port integer, p_generation integer, p_silo_name varchar, p_host_name varchar,
    p_status integer, p_proxy_port integer, p_start_time timestamptz, p_i_am_alive timestamptz, p_version integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE affected integer;
BEGIN
    INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES (p_deployment, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port, p_start_time, p_i_am_alive)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS affected = ROW_COUNT;
    IF affected = 0 THEN
        RETURN 0;
    END IF;
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment AND Version = p_version;
    GET DIAGNOSTICS affected = ROW_COUNT;
    IF affected = 0 THEN
        RAISE EXCEPTION 'membership version changed' USING ERRCODE = 'MDL01';
    END IF;
    RETURN 1;
EXCEPTION WHEN SQLSTATE 'MDL01' THEN
    RETURN 0;
END $$;

CREATE FUNCTION modulith_update_membership(
    p_deployment varchar, p_address varchar, p_port integer, p_generation integer,
    p_status integer, p_suspect_times varchar, p_i_am_alive timestamptz, p_version integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE affected integer;
BEGIN
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment AND Version = p_version;
    GET DIAGNOSTICS affected = ROW_COUNT;
    IF affected = 0 THEN
        RETURN 0;
    END IF;
    UPDATE OrleansMembershipTable SET Status = p_status, SuspectTimes = p_suspect_times, IAmAliveTime = p_i_am_alive
    WHERE DeploymentId = p_deployment AND Address = p_address AND Port = p_port AND Generation = p_generation;
    GET DIAGNOSTICS affected = ROW_COUNT;
    IF affected = 0 THEN
        RAISE EXCEPTION 'no such silo' USING ERRCODE = 'MDL01';
    END IF;
    RETURN 1;
EXCEPTION WHEN SQLSTATE 'MDL01' THEN
    RETURN 0;
END $$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateIAmAlivetimeKey', '
    UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipVersionKey', '
    WITH inserted AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING RETURNING 1)
    SELECT COUNT(*)::integer FROM inserted;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipKey', '
    SELECT modulith_insert_membership(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateMembershipKey', '
    SELECT modulith_update_membership(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes, @IAmAliveTime, @Version);
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadRowKey', '
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes,
           m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
        AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadAllKey', '
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes,
           m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
    WHERE v.DeploymentId = @DeploymentId;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteMembershipTableEntriesKey', '
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('GatewaysQueryKey', '
    SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntriesKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntryKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation AND Status <> 3;
');

-- Grain storage -----------------------------------------------------------------------------------------------
CREATE TABLE OrleansStorage
(
    GrainIdHash integer NOT NULL,
    GrainIdN0 bigint NOT NULL,
    GrainIdN1 bigint NOT NULL,
    GrainTypeHash integer NOT NULL,
    GrainTypeString varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NOT NULL DEFAULT '',
    ServiceId varchar(150) NOT NULL,
    PayloadBinary bytea NULL,
    ModifiedOn timestamptz NOT NULL,
    Version integer NULL,
    PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
    WITH written AS (
        INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, COALESCE(@GrainIdExtensionString, ''''), @ServiceId, @PayloadBinary, now(), 1
        WHERE @GrainStateVersion::integer IS NULL OR EXISTS (
            SELECT 1 FROM OrleansStorage
            WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
              AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''') AND Version = @GrainStateVersion::integer)
        ON CONFLICT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString) DO UPDATE SET
            PayloadBinary = excluded.PayloadBinary, ModifiedOn = excluded.ModifiedOn, Version = OrleansStorage.Version + 1
        WHERE OrleansStorage.Version = @GrainStateVersion::integer
        RETURNING Version)
    SELECT COALESCE((SELECT Version FROM written), @GrainStateVersion::integer) AS NewGrainStateVersion;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
    SELECT PayloadBinary, Version FROM OrleansStorage
    WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''');
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
    WITH cleared AS (
        UPDATE OrleansStorage SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
        WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
          AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''') AND Version = @GrainStateVersion::integer
        RETURNING Version)
    SELECT COALESCE((SELECT Version FROM cleared), @GrainStateVersion::integer) AS NewGrainStateVersion;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', '
    WITH deleted AS (
        DELETE FROM OrleansStorage
        WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
          AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''') AND Version = @GrainStateVersion::integer
        RETURNING Version + 1 AS Version)
    SELECT COALESCE((SELECT Version FROM deleted), @GrainStateVersion::integer) AS NewGrainStateVersion;
');

-- Reminders ---------------------------------------------------------------------------------------------------
CREATE TABLE OrleansRemindersTable
(
    ServiceId varchar(150) NOT NULL,
    GrainId varchar(150) NOT NULL,
    ReminderName varchar(150) NOT NULL,
    StartTime timestamptz(3) NOT NULL,
    Period bigint NOT NULL,
    GrainHash integer NOT NULL,
    Version integer NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);
CREATE INDEX IX_OrleansReminders_GrainHash ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpsertReminderRowKey', '
    INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period::bigint, @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
        StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash, Version = OrleansRemindersTable.Version + 1
    RETURNING Version;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowsKey', '
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowKey', '
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows1Key', '
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows2Key', '
    SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowKey', '
    WITH deleted AS (
        DELETE FROM OrleansRemindersTable
        WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName AND Version = @Version
        RETURNING 1)
    SELECT COUNT(*)::integer FROM deleted;
');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowsKey', '
    DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
');
