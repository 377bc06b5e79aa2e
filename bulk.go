package tollgate

// Bulk is a batch of rows loaded at once by Store.LoadBulk, to seed a
// database at scale (tollgate-bench seed) far faster than one use case at
// a time. Rows are valid and new, and refer only to rows that exist or
// come earlier in the batch: orgs, then service accounts, then their API
// tokens, then audit events.
type Bulk struct {
	Orgs            []Org
	ServiceAccounts []ServiceAccount
	APITokens       []APIToken
	AuditEvents     []AuditEvent
}

// Rows is how many rows b holds.
func (b *Bulk) Rows() int {
	return len(b.Orgs) + len(b.ServiceAccounts) + len(b.APITokens) + len(b.AuditEvents)
}
