package tollgate

// ActionCredentialLeaked: a secret scanner reported a Tollgate credential
// found in public (P3), and it was revoked. The event's details carry
// where it was found.
const ActionCredentialLeaked = "credential.leaked"

// Labels of a leak report's answer, as GitHub's secret scanning partner
// programme reads them.
const (
	LeakTruePositive  = "true_positive"  // a Tollgate credential that existed; it is revoked now
	LeakFalsePositive = "false_positive" // anything else: unknown, spent, or not Tollgate's
)

// Limits of a leak report.
const (
	MaxLeakReports      = 100  // entries in one request
	MaxLeakURLLength    = 2048 // bytes of an entry's url kept in the audit event
	MaxLeakSourceLength = 100  // bytes of its source and type kept
)

// LeakReport is one entry of a scanner's report: the credential found,
// the scanner's name for its type, where it was found, and the kind of
// place (GitHub: "content", "commit", "pull_request", …).
type LeakReport struct {
	Token, Type, URL, Source string
}

// LeakVerdict is the answer for one entry: the SHA-256 of the token in
// lowercase hex (never the token itself), the type the scanner sent,
// and the label.
type LeakVerdict struct {
	TokenHash, TokenType, Label string
}
