CREATE TABLE departments (
    id BIGSERIAL PRIMARY KEY,
    parent_id BIGINT REFERENCES departments(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    active BIGINT NOT NULL DEFAULT 1,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    label TEXT,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE categories (
    id BIGSERIAL PRIMARY KEY,
    parent_id BIGINT REFERENCES categories(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE routing_rules (
    id BIGSERIAL PRIMARY KEY,
    category_id BIGINT NOT NULL REFERENCES categories(id),
    district_id BIGINT REFERENCES departments(id),
    department_id BIGINT NOT NULL REFERENCES departments(id)
);
CREATE TABLE deadline_rules (
    id BIGSERIAL PRIMARY KEY,
    category_id BIGINT REFERENCES categories(id),
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
    year BIGINT PRIMARY KEY,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE case_sequences (
    day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    case_number TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    suspended BIGINT NOT NULL,
    supervised BIGINT NOT NULL,
    channel TEXT NOT NULL,
    order_type TEXT NOT NULL,
    category_id BIGINT,
    urgency TEXT NOT NULL,
    district_id BIGINT,
    street_id BIGINT,
    main_department_id BIGINT,
    phone TEXT,
    caller_name TEXT,
    confidential BIGINT NOT NULL,
    external_ref TEXT,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT,
    sign_warn BIGINT,
    sign_due BIGINT,
    reply_warn BIGINT,
    reply_due BIGINT,
    callback_warn BIGINT,
    callback_due BIGINT,
    next_warn BIGINT,
    next_due BIGINT,
    next_event_at BIGINT,
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
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT,
    payload TEXT NOT NULL,
    UNIQUE(order_id, seq)
);
CREATE TABLE order_departments (
    order_id BIGINT NOT NULL REFERENCES orders(id),
    department_id BIGINT NOT NULL REFERENCES departments(id),
    role TEXT NOT NULL,
    PRIMARY KEY (order_id, department_id)
);
CREATE INDEX order_departments_dept ON order_departments(department_id, order_id);
CREATE TABLE idempotency_keys (
    key TEXT NOT NULL,
    owner TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE TABLE citizens (
    phone TEXT PRIMARY KEY,
    name TEXT,
    addresses TEXT NOT NULL DEFAULT '[]',
    note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX citizens_name ON citizens(name);
CREATE TABLE citizen_tags (
    phone TEXT NOT NULL REFERENCES citizens(phone),
    tag TEXT NOT NULL,
    set_by TEXT NOT NULL,
    reason TEXT,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (phone, tag)
);
CREATE INDEX citizen_tags_tag ON citizen_tags(tag, phone);
CREATE TABLE citizen_contacts (
    id BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL,
    at BIGINT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT,
    summary TEXT
);
CREATE INDEX citizen_contacts_phone ON citizen_contacts(phone, at);
CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT REFERENCES orders(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    stored_as TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id BIGINT,
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
    created_at BIGINT NOT NULL
);
