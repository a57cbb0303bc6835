-- Rebuilds of the search index asked for (POST /v1/operator/index/rebuild). The request reaches one worker
-- process; every worker's indexer looks here for requests newer than the last it carried out.
CREATE TABLE index_rebuild_requests (
    request_id bigserial PRIMARY KEY,
    requested_at timestamptz NOT NULL DEFAULT now()
);
