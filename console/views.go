package console

// The view models: what each page shows, already formatted (money with 2
// places, dates YYYY-MM-DD). The API's handlers fill them in.

// Page is what every page carries: who is signed in, the business date,
// the form token, and a line of success or a refusal to show.
type Page struct {
	Title   string
	Nav     string // the section: queues, disclosure, reconciliation, clock, calendar, coupons
	User    string // the ops user's email; empty on the sign-in and error pages
	Today   string
	Mode    string // wall or sandbox
	CSRF    string // the session's form token, in every form
	Flash   string
	Problem *Problem
}

// Sandbox reports whether the clock is a sandbox one, which ops may move.
func (p Page) Sandbox() bool { return p.Mode == "sandbox" }

// Problem is a refusal as the JSON API would answer it: its code, the fixed
// title and detail of the code, and the invalid fields.
type Problem struct {
	Status int
	Code   string
	Title  string
	Detail string
	Fields []Field
}

// Field is one invalid form field.
type Field struct{ Name, Message string }

// LoginView is the sign-in page.
type LoginView struct {
	Page
	Email string
	Token string // the sign-in form's own token (the login cookie's value)
}

// QueuesView is the ops work queues with their counts.
type QueuesView struct {
	Page
	Counts              []Count
	DueDiligence        []LoanRow
	FullReview          []LoanRow
	WriteOffs           []LoanRow
	FailedDisbursements []LoanRow
	Buckets             []Count // collection tasks by bucket (M2, M3, M3+)
	Tasks               []TaskRow
}

// Count is one queue's size, linked to its section.
type Count struct {
	Name   string
	Anchor string
	N      int
}

// LoanRow is a loan in a queue.
type LoanRow struct {
	ID         int64
	Status     string
	Amount     string
	TermMonths int32
	Grade      string
	Rate       string
	Raised     string
	Applied    string
	Detail     string // what the queue knows of it (days past due, …)
}

// TaskRow is one collection task: the borrower is shown whole, since
// contacting them is the task.
type TaskRow struct {
	LoanID     int64
	DPD        int
	Bucket     string
	Overdue    string
	BorrowerID int64
	Name       string
	Phone      string
	OpenedOn   string
}

// LoanView is one loan, with the forms of its manual steps.
type LoanView struct {
	Page
	Loan        LoanDetail
	Borrower    Person
	Schedule    []InstallmentRow
	Total       InstallmentRow // sums of the money columns
	History     []HistoryRow
	Investors   []InvestorRow
	Holdings    []HoldingRow
	Transfers   []TransferRow
	Actions     []Action
	Grades      []string
	TemporalURL string
}

// LoanDetail is the loan's own fields.
type LoanDetail struct {
	ID              int64
	Status          string
	Amount          string
	Raised          string
	TermMonths      int32
	Method          string
	Purpose         string
	Grade           string
	Rate            string
	Newbie          bool
	AppliedOn       string
	ListingExpires  string
	DisbursedOn     string
	WorkflowID      string
	BorrowerID      int64
	GuarantorUserID int64
}

// Person is the borrower: masked unless ops asked to reveal (audited).
type Person struct {
	UserID   int64
	Name     string
	IDNumber string
	Phone    string
	Revealed bool
}

// InstallmentRow is one installment of the schedule, as of the business date.
type InstallmentRow struct {
	No        int32
	DueDate   string
	Principal string
	Interest  string
	Penalty   string
	Paid      string
	Status    string
	DPD       int // days past due while open and late
}

// HistoryRow is one line of the loan's history, with ops' notes whole.
type HistoryRow struct {
	Date   string
	At     string
	Status string
	Note   string
}

// InvestorRow is one bid and what its claim has received and is owed.
// HoldingRow is one holder's time with one claim (docs/transfer.md "Holdings").
type HoldingRow struct {
	ID, BidID, UserID int64
	Name              string // masked
	Source            string
	Principal, Cost   string
	Outstanding       string
	HeldFrom, HeldTo  string // HeldTo "" while held
	Status            string
}

// TransferRow is one listing of a claim of the loan; the buyer's figures
// are empty until it is sold.
type TransferRow struct {
	ID, BidID          int64
	SellerID           int64
	Seller             string
	BuyerID            int64
	Buyer              string
	Discount           string // percent
	Status             string
	ListedOn, Expires  string
	Principal          string
	Price, Fee, Closed string
}

type InvestorRow struct {
	BidID             int64
	UserID            int64
	Name              string // masked
	Amount            string
	Share             string // of the loan, percent
	Status            string
	ReceivedPrincipal string
	ReceivedInterest  string
	PendingPrincipal  string
	PendingInterest   string
}

// Action is one manual step's form.
type Action struct {
	Kind    string // due-diligence, full-tender-review, write-off, disbursement-retry
	Title   string
	Path    string
	Current bool // the loan is at this step now
	Open    bool // shown unfolded: the current step, or the form just refused
	Decide  bool // approve/reject with a note (all but the retry)
	Terms   bool // grade and rate may change (due diligence)
	Help    string
}

// ReconciliationView is one business date's comparison of the bank's file
// with the ledger.
type ReconciliationView struct {
	Page
	Date        string
	Prev, Next  string
	Status      string
	Differences []Difference
}

// Difference is one movement the two sides disagree on.
type Difference struct {
	RequestNo    string
	Kind         string
	Account      string
	BankAmount   string
	LedgerAmount string
	Reason       string
}

// DisclosureView is the published figures and their history.
type DisclosureView struct {
	Page
	Figures []Figure
	Buckets []BucketFigure
	Chart   Chart
	History []HistoryPoint // newest first
}

// Figure is one published figure.
type Figure struct{ Name, Value string }

// BucketFigure is one DPD bucket's overdue amount and rate.
type BucketFigure struct{ Bucket, Amount, Rate, Color string }

// HistoryPoint is one day's snapshot in the table under the chart.
type HistoryPoint struct {
	Date        string
	Buckets     []string
	Overdue     string
	Outstanding string
	Rate        string
}

// ClockView is the business clock and, in sandbox mode, its advance.
type ClockView struct {
	Page
	Suggest  string // the advance form's default date
	Advance  *Advance
	Quick    []QuickAdvance
	Progress string // the progress endpoint the script polls
}

// QuickAdvance is a one-click advance by some days.
type QuickAdvance struct{ Label, To string }

// Advance is the console's last clock advance, running or finished.
type Advance struct {
	From, To  string
	Running   bool
	Error     string
	LoansDue  int64 // loans still with events due on or before To
	Percent   int   // of the days from From to To the clock has passed
	StartedAt string
}

// CalendarView is one year of the bank's calendar and the form that sets it.
type CalendarView struct {
	Page
	Year, MinYear, MaxYear     int
	Holidays, Workdays         []string
	HolidaysText, WorkdaysText string // the form's text: what is set, or what was refused
	Set                        bool
	UpdatedBy                  int64
	UpdatedAt                  string
}

// CouponsView is the bonus account's page: its figures, the top-up and grant
// forms (with what ops typed, when refused) and the payments the bank
// refused.
type CouponsView struct {
	Page
	Available, Liabilities, Headroom string
	Failed                           []BonusPaymentRow
	TopUp                            string
	UserID, Kind, Amount, ExtraRate  string
	Months, MinBid, ExpiresOn, Note  string
}

// BonusPaymentRow is one payment the bank refused: an ops task.
type BonusPaymentRow struct {
	ID, LoanID, UserID, CouponID int64
	Installment, Attempt         int
	Amount, Code                 string
}

// UsersView is customer service's search (docs/support.md): one box for an
// e-mail, a phone, an ID number or a user id; the users found, masked.
type UsersView struct {
	Page
	Q        string
	Searched bool
	Users    []UserRow
}

// UserRow is a user as the search lists them.
type UserRow struct {
	UserID int64
	Role   string
	Name   string
	Email  string
	Phone  string
	Locked bool
	Since  string
}

// UserView is a user's one page: the person masked (whole once revealed),
// the account as the ledger and as the bank see it, and every list.
type UserView struct {
	Page
	Person    UserRow
	IDNumber  string
	Revealed  *RevealedPerson
	Platform  Balances
	Bank      *Balances
	BankError string
	// Pending and TotalAssets are the ledger's: what claims still bring.
	PendingPrincipal, PendingInterest, TotalAssets string
	Loans                                          []UserLoanRow
	Holdings                                       []UserHoldingRow
	Bids                                           []BidRow
	Withdrawals                                    []WithdrawalRow
	Transfers                                      []UserTransferRow
	Coupons                                        []UserCouponRow
	Notifications                                  []NoticeRow
	FundLog                                        []FundRow
	Actions                                        []ActionRow
}

// Balances are available and frozen money.
type Balances struct{ Available, Frozen string }

// Agree reports whether the bank's figures are the ledger's.
func (v UserView) Agree() bool { return v.Bank != nil && *v.Bank == v.Platform }

// RevealedPerson is the person's data whole, after an audited reveal.
type RevealedPerson struct{ Name, IDNumber, Phone, CardNumber string }

// UserLoanRow is one loan the user borrows.
type UserLoanRow struct {
	ID                 int64
	Amount, Status, On string
	TermMonths         int32
}

// UserHoldingRow is one claim or undisbursed bid.
type UserHoldingRow struct {
	LoanID                                       int64
	Source, Principal, Received, Pending, Status string
}

// BidRow is one bid.
type BidRow struct {
	ID, LoanID         int64
	Amount, Status, At string
}

// WithdrawalRow is one withdrawal.
type WithdrawalRow struct {
	ID                             int64
	Amount, Fee, Route, Status, On string
}

// UserTransferRow is one transfer the user sold or bought.
type UserTransferRow struct {
	ID, LoanID              int64
	Role, Status, Price, At string
}

// UserCouponRow is one coupon the user holds.
type UserCouponRow struct {
	ID                                         int64
	Kind, Value, MinBid, Expires, Status, Paid string
}

// NoticeRow is one notification that reached the user.
type NoticeRow struct{ On, Kind, Message string }

// FundRow is one line of the fund log: where a yuan came from or went.
type FundRow struct {
	ID int64
	// On is the business date; At, the moment the entry committed, is the
	// date's tooltip.
	On, At, Type, Kind, Amount, AvailableAfter, FrozenAfter, Counterpart string
	// PendingReceivableAfter is what the user's claims are still owed after
	// the line (待收), as GET /v1/me/fund-logs gives it.
	PendingReceivableAfter string
}

// ActionRow is one ops action on the user, from the audit log.
type ActionRow struct{ At, Action, By, Note string }

// ReportsView is the books of a month (docs/reports.md): the month's figures
// and the disclosure figures at its end, charts of the days, and each day's
// figures in a table.
type ReportsView struct {
	Page
	Month, Prev, Next string
	Figures           []Figure // the month's sums, in the API's order
	Disclosure        []Figure // at the month's end
	DisclosureAsOf    string
	Balanced          bool
	MoneyChart        Chart // recharges, withdrawals
	LendingChart      Chart // disbursed, repaid principal, repaid interest
	Columns           []string
	Days              []ReportDayRow
}

// ReportDayRow is one day's figures, in Columns' order.
type ReportDayRow struct {
	Date   string
	Values []string
}
