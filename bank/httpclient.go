package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// DepositRequest puts the platform company's own money into a platform
// account (funding the bonus account for coupons, say). It is an admin call of
// the simulator: a real bank sees it as an incoming transfer from the
// company's settlement account.
type DepositRequest struct {
	RequestNo string          `json:"request_no"`
	AccountNo string          `json:"account_no"`
	Amount    decimal.Decimal `json:"amount"`
}

// HTTPClient is the platform's Client over the bank's JSON API (the
// simulator's, bank/sim).
type HTTPClient struct {
	base string
	hc   *http.Client
	key  []byte // signs every request (sign.go)
	now  func() time.Time
}

// Option configures an HTTPClient.
type Option func(*HTTPClient)

// WithAPIKey signs every request with key (BANK_API_KEY; sign.go). The
// bank refuses unsigned requests, admin ones aside.
func WithAPIKey(key []byte) Option { return func(c *HTTPClient) { c.key = key } }

var _ Client = (*HTTPClient)(nil)

// DefaultTimeout bounds one call when NewHTTPClient is given no http.Client.
// A call that times out has an unknown outcome and is sent again with the same
// request number, which is safe.
const DefaultTimeout = 30 * time.Second

// NewHTTPClient talks to the bank at baseURL (http://host:port). A nil hc gets
// a client with DefaultTimeout on a transport of its own (newTransport).
func NewHTTPClient(baseURL string, hc *http.Client, opts ...Option) *HTTPClient {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout, Transport: newTransport()}
	}
	hc = instrumented(hc) // bank/metrics.go: calls by operation, outcome and latency
	c := &HTTPClient{base: strings.TrimRight(baseURL, "/"), hc: hc, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// idleConnsPerHost is how many connections to the bank are kept open
// between calls. http.DefaultTransport keeps 2, so with dozens of bids in
// flight every freeze past the second opened a new TCP connection and the
// ones after closed it again.
const idleConnsPerHost = 64

// newTransport is http.DefaultTransport's settings with idleConnsPerHost.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, idleConnsPerHost)
	t.MaxIdleConnsPerHost = idleConnsPerHost
	return t
}

func (c *HTTPClient) OpenAccount(ctx context.Context, r OpenAccountRequest) (OpenAccountResult, error) {
	var out OpenAccountResult
	return out, c.do(ctx, http.MethodPost, "/accounts", r, &out)
}

func (c *HTTPClient) ChangeCard(ctx context.Context, r ChangeCardRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/cards", r)
}

func (c *HTTPClient) Recharge(ctx context.Context, r RechargeRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/recharges", r)
}

// Withdraw answers StatusProcessing; the final result comes by Callback, or by
// Query.
func (c *HTTPClient) Withdraw(ctx context.Context, r WithdrawRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/withdrawals", r)
}

func (c *HTTPClient) Freeze(ctx context.Context, r FreezeRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/freezes", r)
}

func (c *HTTPClient) Unfreeze(ctx context.Context, r UnfreezeRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/unfreezes", r)
}

func (c *HTTPClient) Transfer(ctx context.Context, r TransferRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/transfers", r)
}

func (c *HTTPClient) Batch(ctx context.Context, r BatchRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/batches", r)
}

// TopUp fills the bonus account from the platform's card.
func (c *HTTPClient) TopUp(ctx context.Context, r TopUpRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/top-ups", r)
}

// Query answers the request's current result, refusals included (as
// StatusFailed with their Code); a number the bank never recorded is refused
// with CodeNotFound.
func (c *HTTPClient) Query(ctx context.Context, requestNo string) (Result, error) {
	return c.result(ctx, http.MethodGet, "/requests/"+url.PathEscape(requestNo), nil)
}

func (c *HTTPClient) Balance(ctx context.Context, accountNo string) (Balance, error) {
	var out Balance
	return out, c.do(ctx, http.MethodGet, "/accounts/"+url.PathEscape(accountNo), nil, &out)
}

// SetClock sets the bank's business date; every later movement is stamped
// with it and lands in that day's reconciliation file.
func (c *HTTPClient) SetClock(ctx context.Context, today time.Time) error {
	return c.do(ctx, http.MethodPost, "/admin/clock", clockBody{Today: today.Format(time.DateOnly)}, nil)
}

// Clock reads the bank's business date.
func (c *HTTPClient) Clock(ctx context.Context) (time.Time, error) {
	var out clockBody
	if err := c.do(ctx, http.MethodGet, "/admin/clock", nil, &out); err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.DateOnly, out.Today)
}

type clockBody struct {
	Today string `json:"today"`
}

// Reconciliation fetches the bank's file of date's movements (对账文件).
func (c *HTTPClient) Reconciliation(ctx context.Context, date time.Time) ([]ReconciliationLine, error) {
	body, err := c.raw(ctx, http.MethodGet, "/reconciliation/"+date.Format(time.DateOnly), nil)
	if err != nil {
		return nil, err
	}
	return ParseReconciliation(bytes.NewReader(body))
}

// Deposit funds a platform account from outside custody (simulator admin).
func (c *HTTPClient) Deposit(ctx context.Context, r DepositRequest) (Result, error) {
	return c.result(ctx, http.MethodPost, "/admin/deposits", r)
}

// ReverseWithdrawal makes the bank reverse (冲正) a succeeded withdrawal now,
// as its reconciliation would (simulator admin). Reversing one already
// reversed answers the reversal again.
func (c *HTTPClient) ReverseWithdrawal(ctx context.Context, requestNo string) (Result, error) {
	return c.result(ctx, http.MethodPost, "/admin/withdrawals/"+url.PathEscape(requestNo)+"/reversal", nil)
}

// SetFaults replaces the simulator's fault configuration (a sim.FaultConfig,
// or its JSON form).
func (c *HTTPClient) SetFaults(ctx context.Context, faults any) error {
	return c.do(ctx, http.MethodPut, "/admin/faults", faults, nil)
}

func (c *HTTPClient) result(ctx context.Context, method, path string, in any) (Result, error) {
	var out Result
	return out, c.do(ctx, method, path, in, &out)
}

func (c *HTTPClient) do(ctx context.Context, method, path string, in, out any) error {
	body, err := c.raw(ctx, method, path, in)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		// The bank answered success but we cannot read what: the outcome is
		// unknown to us, so the caller must ask again.
		return fmt.Errorf("bank %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (c *HTTPClient) raw(ctx context.Context, method, path string, in any) ([]byte, error) {
	var payload []byte
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		payload, rd = b, bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(c.key) > 0 {
		ts := c.now().Unix()
		req.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
		req.Header.Set(RequestSignatureHeader, RequestSignature(c.key, method, req.URL.RequestURI(), ts, payload))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bank %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("bank %s %s: read answer: %w", method, path, err)
	}
	if err := classify(resp.StatusCode, body); err != nil {
		return nil, err
	}
	return body, nil
}

// classify is the one place that decides what an HTTP answer means. A 4xx is
// the bank's refusal: final for the request number, not retryable. A 5xx, 408
// or 429 means the bank did not (or may not have) finished: retryable with
// the same number. So is a 401: the bank refused the signature before
// looking at the request (a wrong or rotated BANK_API_KEY), so nothing was
// done, and the request must not be booked as refused. Transport errors and timeouts never reach here; they come
// back wrapped, which Client's contract already reads as "unknown, retry".
func classify(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	retryable := status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		status == http.StatusUnauthorized
	if e.Code == "" {
		e.Code = CodeInvalidRequest
		if retryable {
			e.Code = CodeUnavailable
		}
		e.Message = fmt.Sprintf("HTTP %d: %.200s", status, body)
	}
	return &Error{Code: e.Code, Message: e.Message, Retryable: retryable}
}
