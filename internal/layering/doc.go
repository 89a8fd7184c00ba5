// Package layering holds the test that keeps data flowing one way through
// the tree: the metric core and the event-time machinery know nothing of
// Kafka, ClickHouse, configuration or the runtime that drives them.
package layering
