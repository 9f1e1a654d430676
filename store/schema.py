"""The versioned schema of a workspace's DuckDB file.

MIGRATIONS[i] takes a file from version i to version i + 1. Append new
migrations; never edit one that has shipped. JSON is stored as VARCHAR so no
DuckDB extension has to be fetched at run time.
"""

MIGRATIONS: list[str] = [
    # 1: the log as the foundation issue defines it
    """
    CREATE TABLE datasets (
        name VARCHAR PRIMARY KEY,
        labels VARCHAR[] NOT NULL,
        question VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    CREATE TABLE items (
        id VARCHAR PRIMARY KEY,
        dataset VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        group_id VARCHAR,
        question VARCHAR,
        extra VARCHAR NOT NULL
    );
    CREATE INDEX items_dataset ON items (dataset, split, category);
    CREATE TABLE gold (
        item_id VARCHAR PRIMARY KEY,
        label INTEGER NOT NULL
    );
    CREATE TABLE campaigns (
        id VARCHAR PRIMARY KEY,
        dataset VARCHAR NOT NULL,
        config VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    CREATE TABLE queries (
        id VARCHAR NOT NULL UNIQUE,
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        item_id VARCHAR NOT NULL,
        oracle VARCHAR NOT NULL,
        strategy VARCHAR NOT NULL,
        score DOUBLE,
        cost DOUBLE NOT NULL,
        status VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (campaign_id, round, item_id, oracle)
    );
    CREATE TABLE labels (
        query_id VARCHAR PRIMARY KEY,
        oracle VARCHAR NOT NULL,
        value INTEGER NOT NULL,
        confidence DOUBLE,
        latency_s DOUBLE,
        created_at TIMESTAMP NOT NULL
    );
    CREATE TABLE predictions (
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        item_id VARCHAR NOT NULL,
        head VARCHAR NOT NULL,
        prob DOUBLE NOT NULL,
        model_version VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (campaign_id, round, item_id, head, model_version)
    );
    CREATE TABLE checks (
        id VARCHAR PRIMARY KEY,
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        check_name VARCHAR NOT NULL,
        item_ids VARCHAR[] NOT NULL,
        violation DOUBLE NOT NULL,
        details VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    CREATE TABLE training_rounds (
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        loss VARCHAR NOT NULL,
        n_weak INTEGER NOT NULL,
        n_gold INTEGER NOT NULL,
        model_version VARCHAR NOT NULL,
        details VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        PRIMARY KEY (campaign_id, round)
    );
    CREATE TABLE metrics (
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (campaign_id, round, name, scope)
    );
    CREATE TABLE events (
        id VARCHAR PRIMARY KEY,
        campaign_id VARCHAR,
        kind VARCHAR NOT NULL,
        payload VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    """,
    # 2: a dataset remembers what it was imported from, so importing the same
    # content again is a no-op instead of an error
    """
    ALTER TABLE datasets ADD COLUMN fingerprint VARCHAR DEFAULT '';
    """,
    # 3: one round can train several students (an experiment trains one per method),
    # told apart by model version
    """
    CREATE TABLE training_rounds_v3 (
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        loss VARCHAR NOT NULL,
        n_weak INTEGER NOT NULL,
        n_gold INTEGER NOT NULL,
        model_version VARCHAR NOT NULL,
        details VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        PRIMARY KEY (campaign_id, round, model_version)
    );
    INSERT INTO training_rounds_v3 SELECT * FROM training_rounds;
    DROP TABLE training_rounds;
    ALTER TABLE training_rounds_v3 RENAME TO training_rounds;
    """,
    # 4: why a query was asked, and whether a run is a campaign or an experiment, as
    # columns (they were told apart by the strategy's value and by id prefixes)
    """
    ALTER TABLE queries ADD COLUMN purpose VARCHAR DEFAULT 'purchase';
    UPDATE queries SET purpose = strategy
        WHERE strategy IN ('bulk', 'weak-training', 'weak-labels', 'evaluation', 'ceiling');
    ALTER TABLE campaigns ADD COLUMN kind VARCHAR DEFAULT 'campaign';
    UPDATE campaigns SET kind = 'experiment' WHERE id LIKE 'exp-%';
    """,
    # 5: texts the student writes to test its supervisor, with their provenance
    """
    CREATE TABLE contrasts (
        id VARCHAR PRIMARY KEY,
        campaign_id VARCHAR NOT NULL,
        round INTEGER NOT NULL,
        parent_id VARCHAR NOT NULL,
        edit VARCHAR NOT NULL,
        flips BOOLEAN NOT NULL,
        text VARCHAR NOT NULL,
        prompt VARCHAR NOT NULL,
        generator VARCHAR NOT NULL,
        seed INTEGER NOT NULL,
        status VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        truth_parent DOUBLE,
        truth_edit DOUBLE,
        created_at TIMESTAMP NOT NULL
    );
    CREATE INDEX contrasts_campaign ON contrasts (campaign_id, round);
    """,
]

LATEST = len(MIGRATIONS)
