// Package settings holds what an admin changes while trendwatch runs: the
// per-language alert thresholds and the alert policy. It validates a new
// value (with messages that name the bad language, value or field, and an
// i18n key for the dashboard), keeps the latest record of each setting as
// read from the compacted settings topic, and derives what every stage
// uses from it: the analyzers' thresholds and alerting verdicts, and the
// alerter's whole policy.
//
// One concept, one value: the thresholds are both the analyzer's "emit an
// alert event" bar and the policy's "count toward a case" bar, so the
// thresholds setting overrides both, and the alert-policy setting may not
// carry other thresholds.
//
// Precedence: the built-in defaults, then the flags (--thresholds,
// --alert-policy, --alert-verdicts), then a stored setting. Pure: no
// Kafka, no ClickHouse; the caller feeds Apply from the topic.
//
// Standard library only.
package settings
