CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES departments(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments(id),
    active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    label TEXT,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES categories(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    district_id INTEGER REFERENCES departments(id),
    department_id INTEGER NOT NULL REFERENCES departments(id)
);
CREATE TABLE deadline_rules (
    id INTEGER PRIMARY KEY,
    category_id INTEGER REFERENCES categories(id),
    urgency TEXT,
    sign_span TEXT NOT NULL,
    reply_span TEXT NOT NULL,
    callback_span TEXT NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE case_sequences (
    day TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    suspended INTEGER NOT NULL,
    supervised INTEGER NOT NULL,
    channel TEXT NOT NULL,
    order_type TEXT NOT NULL,
    category_id INTEGER,
    urgency TEXT NOT NULL,
    district_id INTEGER,
    street_id INTEGER,
    main_department_id INTEGER,
    phone TEXT,
    caller_name TEXT,
    confidential INTEGER NOT NULL,
    external_ref TEXT,
    search_text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    sign_warn INTEGER,
    sign_due INTEGER,
    reply_warn INTEGER,
    reply_due INTEGER,
    callback_warn INTEGER,
    callback_due INTEGER,
    next_warn INTEGER,
    next_due INTEGER,
    next_event_at INTEGER,
    data TEXT NOT NULL
);
CREATE INDEX orders_status ON orders(status, created_at);
CREATE INDEX orders_created ON orders(created_at);
CREATE INDEX orders_main_department ON orders(main_department_id, created_at);
CREATE INDEX orders_district ON orders(district_id, created_at);
CREATE INDEX orders_category ON orders(category_id, created_at);
CREATE INDEX orders_phone ON orders(phone, created_at);
CREATE INDEX orders_channel ON orders(channel, created_at);
CREATE INDEX orders_type ON orders(order_type, created_at);
CREATE INDEX orders_next_due ON orders(next_due);
CREATE INDEX orders_next_event ON orders(next_event_at);
CREATE INDEX orders_external_ref ON orders(external_ref);
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT,
    payload TEXT NOT NULL,
    UNIQUE(order_id, seq)
);
CREATE TABLE order_departments (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    role TEXT NOT NULL,
    PRIMARY KEY (order_id, department_id)
);
CREATE INDEX order_departments_dept ON order_departments(department_id, order_id);
CREATE TABLE idempotency_keys (
    key TEXT NOT NULL,
    owner TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE TABLE citizens (
    phone TEXT PRIMARY KEY,
    name TEXT,
    addresses TEXT NOT NULL DEFAULT '[]',
    note TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX citizens_name ON citizens(name);
CREATE TABLE citizen_tags (
    phone TEXT NOT NULL REFERENCES citizens(phone),
    tag TEXT NOT NULL,
    set_by TEXT NOT NULL,
    reason TEXT,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (phone, tag)
);
CREATE INDEX citizen_tags_tag ON citizen_tags(tag, phone);
CREATE TABLE citizen_contacts (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT,
    summary TEXT
);
CREATE INDEX citizen_contacts_phone ON citizen_contacts(phone, at);
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER REFERENCES orders(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    stored_as TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id INTEGER,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
