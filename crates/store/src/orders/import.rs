//! Bulk import of orders with their full histories (migrating a previous
//! system's archive, or filling a benchmark store), many per transaction.

use super::columns;
use crate::error::{Result, StoreError};
use crate::exec::{Exec, TxBody};
use crate::sql::Sql;
use crate::Store;
use rexian_core::ids::OrderId;
use rexian_core::order::{Event, WorkOrder};

struct Import {
    views: Vec<WorkOrder>,
    histories: Vec<Vec<Event>>,
}

impl TxBody for Import {
    type Out = Vec<OrderId>;

    async fn run<E: Exec>(self, tx: &mut E) -> Result<Vec<OrderId>> {
        let mut ids = Vec::with_capacity(self.views.len());
        let mut max_seq: std::collections::BTreeMap<String, i64> = Default::default();
        for (mut v, h) in self.views.into_iter().zip(&self.histories) {
            let id = columns::insert(tx, &v).await?;
            v.id = id;
            columns::append_events(tx, id, h).await?;
            columns::sync_departments(tx, None, &v).await?;
            let (day, seq) = v.case_number.as_str().split_at(8);
            let seq: i64 = seq.parse().unwrap_or(0);
            let e = max_seq.entry(day.to_string()).or_default();
            *e = (*e).max(seq);
            ids.push(id);
        }
        // Later registrations on those days continue after the imported numbers.
        for (day, seq) in max_seq {
            tx.execute(
                &Sql::new("INSERT INTO case_sequences (day, last) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET last = CASE WHEN case_sequences.last > excluded.last THEN case_sequences.last ELSE excluded.last END")
                    .arg(day)
                    .arg(seq),
            )
            .await?;
        }
        Ok(ids)
    }
}

impl Store {
    /// Imports orders given as event histories (each starting with its
    /// registration). The view is folded from the events, so an import is
    /// exactly what the lifecycle would have produced. One transaction per
    /// call: all or nothing.
    pub async fn import_orders(&self, histories: Vec<Vec<Event>>) -> Result<Vec<OrderId>> {
        let mut views = Vec::with_capacity(histories.len());
        for (i, h) in histories.iter().enumerate() {
            let v = WorkOrder::fold(OrderId(0), h).ok_or_else(|| {
                StoreError::Invalid(format!("history {i} does not start with a registration"))
            })?;
            views.push(v);
        }
        self.write(Import { views, histories }).await
    }

    /// Refreshes the query planner's statistics (after a large import).
    pub async fn analyze(&self) -> Result<()> {
        sqlx::query("ANALYZE").execute(self.w()).await?;
        Ok(())
    }
}
