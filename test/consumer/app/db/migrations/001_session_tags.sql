-- The app's own table beside the Wukong schema: tags a user puts on a session.
CREATE TABLE session_tags (
    session_id VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
);
