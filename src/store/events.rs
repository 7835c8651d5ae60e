//! What an edit did, as events for the hooks that run after its commit (`crate::hooks`):
//! `escalation-opened`, `escalation-raised`, `gate-decided`, `value-saved`, `checkin-closed`,
//! `source-failed`. Each is a small JSON object; the write path only collects them.

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The event's name, which is also the hook's name.
    pub name: &'static str,
    /// The fields of the event's JSON object (besides `event`, `at` and `actor`, added on commit).
    pub fields: Map<String, Value>,
}

impl Event {
    /// An event about an item (`key`, e.g. `M-27`; empty for none).
    pub fn new(name: &'static str, key: &str) -> Event {
        let mut fields = Map::new();
        if !key.is_empty() {
            fields.insert("key".into(), Value::String(key.to_string()));
        }
        Event { name, fields }
    }

    pub fn with(mut self, field: &str, value: &str) -> Event {
        self.fields.insert(field.to_string(), Value::String(value.to_string()));
        self
    }

    /// The JSON a hook reads on standard input.
    pub fn json(&self, at: &str, actor: &str) -> Value {
        let mut m = Map::new();
        m.insert("event".into(), Value::String(self.name.to_string()));
        m.insert("at".into(), Value::String(at.to_string()));
        m.insert("actor".into(), Value::String(actor.to_string()));
        m.extend(self.fields.clone());
        Value::Object(m)
    }
}
