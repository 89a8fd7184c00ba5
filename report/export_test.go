package report

// ScanQuery is scanQuery, for the integration tests of package report_test.
var ScanQuery = scanQuery
