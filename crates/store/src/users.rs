//! Staff accounts, password login with lockout, browser sessions, bearer
//! tokens for API clients and API keys for channels such as Open311.

use crate::error::{Result, StoreError};
use crate::sql::{from_ms, Sql};
use crate::Store;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rexian_core::ids::{DepartmentId, UserId};
use rexian_core::org::{Actor, Role};
use rexian_core::values::bounded_text;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const SESSION_HOURS: i64 = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department_id: DepartmentId,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor::user(self.id, &self.display_name, self.role, self.department_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub department_id: DepartmentId,
}

/// A signed-in session or API token, as found from its secret.
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub user: User,
    /// `session` (browser, needs the CSRF token on writes) or `api`.
    pub kind: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn hash_password(pw: &str) -> Result<String> {
    if pw.chars().count() < 8 {
        return Err(StoreError::Invalid(
            "password must have at least 8 characters".into(),
        ));
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash password: {e}")))
}

/// A real hash of nothing in particular, made once.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such user, no such password").unwrap_or_default())
}

fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

const USER_COLS: &str =
    "u.id, u.username, u.display_name, u.role, u.department_id, u.active, u.created_at";

fn user_row(r: &AnyRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        department_id: DepartmentId(r.try_get("department_id")?),
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

impl Store {
    pub async fn create_user(&self, input: &UserInput) -> Result<User> {
        let username = bounded_text("username", &input.username, 50, true)?;
        if !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            return Err(StoreError::Invalid(
                "username: letters, digits, '_', '.', '-' only".into(),
            ));
        }
        let display = bounded_text("display_name", &input.display_name, 50, true)?;
        let dept = self
            .snapshot()
            .org
            .get(input.department_id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("department {}", input.department_id)))?;
        if input.role.is_department() == (dept.kind == rexian_core::org::DepartmentKind::Centre) {
            return Err(StoreError::Invalid(format!(
                "role {} does not belong in {}",
                input.role.as_str(),
                dept.name
            )));
        }
        let hash = hash_password(&input.password)?;
        let row = Sql::new("INSERT INTO users (username, display_name, password_hash, role, department_id, active, failed_logins, created_at) VALUES ($1, $2, $3, $4, $5, 1, 0, $6) ON CONFLICT (username) DO NOTHING RETURNING id")
            .arg(username.as_str())
            .arg(display)
            .arg(hash)
            .arg(input.role.as_str())
            .arg(input.department_id.0)
            .arg(Utc::now())
            .query()
            .fetch_optional(self.w())
            .await?;
        let Some(row) = row else {
            return Err(StoreError::Duplicate(format!("user {username}")));
        };
        self.user(UserId(row.try_get("id")?)).await
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        let r = Sql::new(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"))
            .arg(id.0)
            .query()
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        user_row(&r)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        sqlx::query(&format!("SELECT {USER_COLS} FROM users u ORDER BY u.id"))
            .fetch_all(self.r())
            .await?
            .iter()
            .map(user_row)
            .collect()
    }

    /// Changes a user's name, role, unit, activity or password. Deactivating
    /// or changing the password ends their sessions.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_user(
        &self,
        id: UserId,
        display_name: Option<&str>,
        role: Option<Role>,
        department: Option<DepartmentId>,
        active: Option<bool>,
        password: Option<&str>,
    ) -> Result<User> {
        let current = self.user(id).await?;
        let role_now = role.unwrap_or(current.role);
        let dept_now = department.unwrap_or(current.department_id);
        let dept = self
            .snapshot()
            .org
            .get(dept_now)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("department {dept_now}")))?;
        if role_now.is_department() == (dept.kind == rexian_core::org::DepartmentKind::Centre) {
            return Err(StoreError::Invalid(format!(
                "role {} does not belong in {}",
                role_now.as_str(),
                dept.name
            )));
        }
        // Someone must stay able to administer the system.
        let stops_being_admin = current.role == Role::Admin
            && current.active
            && (role_now != Role::Admin || active == Some(false));
        if stops_being_admin {
            let others: i64 = Sql::new(
                "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1 AND id <> $1",
            )
            .arg(id.0)
            .query()
            .fetch_one(self.r())
            .await?
            .try_get("n")?;
            if others == 0 {
                return Err(StoreError::Invalid(
                    "the last active administrator cannot be demoted or deactivated".into(),
                ));
            }
        }
        let mut sql = Sql::new("UPDATE users SET role = ");
        sql.bind(role_now.as_str())
            .push(", department_id = ")
            .bind(dept_now.0);
        if let Some(n) = display_name {
            sql.push(", display_name = ")
                .bind(bounded_text("display_name", n, 50, true)?);
        }
        if let Some(a) = active {
            sql.push(", active = ").bind(a);
        }
        if let Some(p) = password {
            sql.push(", password_hash = ").bind(hash_password(p)?);
            sql.push(", failed_logins = 0, locked_until = NULL");
        }
        sql.push(" WHERE id = ").bind(id.0);
        let mut tx = self.w().begin().await?;
        sql.query().execute(&mut *tx).await?;
        if active == Some(false) || password.is_some() {
            Sql::new("DELETE FROM sessions WHERE user_id = $1")
                .arg(id.0)
                .query()
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.user(id).await
    }

    /// Password login. After [`MAX_FAILED_LOGINS`] failures in a row the
    /// account is locked for [`LOCKOUT_MINUTES`]; the answer for an unknown
    /// user and a wrong password is the same.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, AuthSession)> {
        let row = Sql::new(&format!(
            "SELECT {USER_COLS}, u.password_hash, u.failed_logins, u.locked_until FROM users u WHERE u.username = $1"
        ))
        .arg(username.trim())
        .query()
        .fetch_optional(self.r())
        .await?;
        let Some(row) = row else {
            // Spend the same time as a real check, so response times do not
            // tell which usernames exist.
            verify_password(password, dummy_hash());
            return Err(StoreError::BadCredentials);
        };
        let user = user_row(&row)?;
        let locked_until: Option<i64> = row.try_get("locked_until")?;
        if let Some(l) = locked_until.map(from_ms).filter(|l| *l > now) {
            return Err(StoreError::Locked(l.to_rfc3339()));
        }
        let hash: String = row.try_get("password_hash")?;
        if !user.active || !verify_password(password, &hash) {
            let failed: i64 = row.try_get::<i64, _>("failed_logins")? + 1;
            let lock =
                (failed >= MAX_FAILED_LOGINS).then(|| now + Duration::minutes(LOCKOUT_MINUTES));
            Sql::new("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                .arg(if lock.is_some() { 0 } else { failed })
                .arg(lock)
                .arg(user.id.0)
                .query()
                .execute(self.w())
                .await?;
            if let Some(l) = lock {
                self.audit(
                    &user.actor(),
                    "account_locked",
                    &format!("user:{}", user.id),
                    None,
                )
                .await?;
                return Err(StoreError::Locked(l.to_rfc3339()));
            }
            return Err(StoreError::BadCredentials);
        }
        Sql::new("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .arg(user.id.0)
            .query()
            .execute(self.w())
            .await?;
        self.new_session(user, "session", None, now + Duration::hours(SESSION_HOURS))
            .await
    }

    async fn new_session(
        &self,
        user: User,
        kind: &str,
        label: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<(String, AuthSession)> {
        let token = random_token();
        let csrf = random_token();
        Sql::new("INSERT INTO sessions (token_hash, user_id, kind, label, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .arg(token_hash(&token))
            .arg(user.id.0)
            .arg(kind)
            .arg(label)
            .arg(csrf.as_str())
            .arg(Utc::now())
            .arg(expires_at)
            .query()
            .execute(self.w())
            .await?;
        Ok((
            token,
            AuthSession {
                user,
                kind: kind.to_string(),
                csrf,
                expires_at,
            },
        ))
    }

    /// A long-lived bearer token for an API client, acting as `user`.
    pub async fn create_api_token(
        &self,
        user: UserId,
        label: &str,
        days: i64,
    ) -> Result<(String, AuthSession)> {
        let user = self.user(user).await?;
        let label = bounded_text("label", label, 100, true)?;
        self.new_session(
            user,
            "api",
            Some(&label),
            Utc::now() + Duration::days(days.clamp(1, 3650)),
        )
        .await
    }

    pub async fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<AuthSession>> {
        let row = Sql::new(&format!(
            "SELECT {USER_COLS}, s.kind, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        ))
        .arg(token_hash(token))
        .query()
        .fetch_optional(self.r())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_row(&row)?;
        let expires_at = from_ms(row.try_get("expires_at")?);
        if expires_at <= now || !user.active {
            return Ok(None);
        }
        Ok(Some(AuthSession {
            user,
            kind: row.try_get("kind")?,
            csrf: row.try_get("csrf")?,
            expires_at,
        }))
    }

    /// Removes expired sessions and tokens, and idempotency keys older than
    /// a day (a retry comes within minutes). Returns how many rows went.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let s = Sql::new("DELETE FROM sessions WHERE expires_at <= $1")
            .arg(now)
            .query()
            .execute(self.w())
            .await?
            .rows_affected();
        let k = Sql::new("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .arg(now - Duration::days(1))
            .query()
            .execute(self.w())
            .await?
            .rows_affected();
        Ok(s + k)
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        Sql::new("DELETE FROM sessions WHERE token_hash = $1")
            .arg(token_hash(token))
            .query()
            .execute(self.w())
            .await?;
        Ok(())
    }

    /// A key for a channel (e.g. `open311`); only its hash is kept.
    pub async fn create_api_key(&self, label: &str, purpose: &str) -> Result<String> {
        let key = random_token();
        self.insert_api_key(&key, label, purpose).await?;
        Ok(key)
    }

    /// Stores a key chosen by the operator (the demo city's is printed at start).
    pub async fn insert_api_key(&self, key: &str, label: &str, purpose: &str) -> Result<()> {
        Sql::new("INSERT INTO api_keys (key_hash, label, purpose, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key_hash) DO NOTHING")
            .arg(token_hash(key))
            .arg(label)
            .arg(purpose)
            .arg(Utc::now())
            .query()
            .execute(self.w())
            .await?;
        Ok(())
    }

    /// The label of a valid key for `purpose`.
    pub async fn check_api_key(&self, key: &str, purpose: &str) -> Result<Option<String>> {
        let row = Sql::new("SELECT label FROM api_keys WHERE key_hash = $1 AND purpose = $2")
            .arg(token_hash(key))
            .arg(purpose)
            .query()
            .fetch_optional(self.r())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("label")?),
            None => None,
        })
    }
}
