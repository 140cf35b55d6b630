package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/testwait"
)

// chromium finds a Chromium binary: LENDFLOW_CHROMIUM, else the Debian
// package's. Without one the browser test is skipped, except in CI, where
// scripts/test.sh installs it and the test must run.
func chromium(t *testing.T) string {
	candidates := []string{os.Getenv("LENDFLOW_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium in CI: scripts/test.sh installs it (apt-get install -y chromium)")
	}
	t.Skip("no Chromium found (apt-get install -y chromium, or set LENDFLOW_CHROMIUM); the console's browser test is skipped")
	return ""
}

// browser drives one headless Chromium tab through the console.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // where screenshots go; "" takes none
}

const (
	laptopW, laptopH = 1280, 800
	phoneW, phoneH   = 390, 844
)

func newBrowser(t *testing.T, base string) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(laptopW, laptopH))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base}
	// LENDFLOW_CONSOLE_SCREENSHOTS=docs/console regenerates docs/console/*.png.
	if dir := os.Getenv("LENDFLOW_CONSOLE_SCREENSHOTS"); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("..", dir) // the test runs in e2e/; the path is from the repository root
		}
		require.NoError(t, os.MkdirAll(dir, 0o755))
		b.shots = dir
	}
	// The first run starts the browser, which lives as long as the context
	// of that run: it must not be a context with a timeout.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(laptopW, laptopH)))
	return b
}

// do runs steps, each page's worth bounded so a stuck page fails the test.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...))
}

func (b *browser) open(path string) { b.t.Helper(); b.do(chromedp.Navigate(b.base + path)) }

// text is the visible text of the first element a CSS selector finds.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, sel)
	return strings.TrimSpace(s)
}

// tryText is text for a page that may be replacing itself (the clock page
// reloads when its advance ends).
func (b *browser) tryText(sel string) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	return strings.TrimSpace(s), err
}

func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(b.t, err)
	return strings.TrimPrefix(loc, b.base)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	require.NoError(b.t, err)
	return n
}

// until reloads path until the text of sel contains want.
func (b *browser) until(path, sel, want string) {
	b.t.Helper()
	testwait.Every(200*time.Millisecond).For(b.t, fmt.Sprintf("%s: %s to show %q", path, sel, want), func() bool {
		b.open(path)
		return strings.Contains(b.text(sel), want)
	})
}

// shot saves the page at laptop and phone width, when screenshots are asked for.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	for _, size := range []struct {
		suffix string
		w, h   int64
		opts   []chromedp.EmulateViewportOption
	}{{"laptop", laptopW, laptopH, nil}, {"phone", phoneW, phoneH, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}}} {
		b.do(chromedp.EmulateViewport(size.w, size.h, size.opts...))
		// Let the page lay out at the new width before it is captured.
		b.do(chromedp.Sleep(300 * time.Millisecond))
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		require.NoError(b.t, err)
		require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+"-"+size.suffix+".png"), png, 0o644))
	}
	b.do(chromedp.EmulateViewport(laptopW, laptopH))
}

// TestConsoleInABrowser drives the ops console in headless Chromium against
// the whole platform (Temporal dev server, PostgreSQL, bank simulator,
// worker, API), so every decision really runs the loan's workflow:
//
//   - sign-in: a page asks for it, the ops credentials open the queues;
//   - a 60,000.00 loan waits for due diligence: its page masks the borrower
//     (张*, 3301**********, 138****), a reveal with a reason shows them and
//     is in the audit log; ops approve it regraded B at 8.5 %, and it lists;
//   - the full-tender review form sent while the loan is listed is refused,
//     shown plainly (invalid_state) on the page;
//   - three investors fill it (by the API); ops approve the full-tender
//     review and it is disbursed: the schedule and the investors' shares show;
//   - the clock advances by the console's form, with its progress, four
//     times; the borrower never pays, so the loan climbs the buckets: a
//     collection task at M2, then more than 90 days past due a write-off
//     request, which ops approve; the disclosure page charts each day's
//     snapshot; the day of disbursement reconciles;
//   - signing out ends the session.
//
// With LENDFLOW_CONSOLE_SCREENSHOTS=docs/console it saves every page, at
// laptop and phone width, in docs/console/.
func TestConsoleInABrowser(t *testing.T) {
	t.Parallel()
	_ = chromium(t) // skip before starting the stack when there is no browser
	s := startWith(t, "2026-01-31", func(c *app.Config, _ *sim.Config) { c.SweepEvery = time.Second })
	b := newBrowser(t, s.api)
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)

	borrower := s.signUp("borrower", "张三")
	investors := []person{s.signUp("investor", "李四"), s.signUp("investor", "王五"), s.signUp("investor", "赵六")}
	bids := []string{"30000.00", "20000.00", "10000.00"}
	for i, inv := range investors {
		s.call("POST", "/v1/me/risk-assessment", inv.token, obj{"answers": []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}, 200)
		s.call("POST", "/v1/me/recharges", inv.token, obj{"amount": bids[i]}, 201)
	}
	loan := s.call("POST", "/v1/loans", borrower.token, obj{"amount": "60000.00", "term_months": 3,
		"repayment_method": "equal_installment", "purpose": "shop renovation", "monthly_income": "50000.00"}, 201)
	id := loan["loan_id"].(float64)
	loanPage := fmt.Sprintf("/console/loans/%.0f", id)
	s.waitFor("due diligence", func() bool { return s.loanStatus(ops, id) == "due_diligence" })

	// Sign-in.
	b.open("/console/")
	require.Equal(t, "/console/login", b.location(), "no session: the console asks to sign in")
	b.shot("login")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=email]`), "ops@lendflow.test"),
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=password]`), "ops-password-1"),
		chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
	)
	require.Equal(t, "/console/", b.location())
	require.Equal(t, "1", b.text(`[data-queue="due-diligence"]`))
	require.Contains(t, b.text("#due-diligence"), fmt.Sprintf("#%.0f", id))

	// The loan page: the borrower masked, then revealed with a reason.
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#due-diligence a[href="%s"]`, loanPage))), chromedp.WaitVisible(chromedp.ID("borrower")))
	require.Equal(t, "due diligence", b.text("#loan-status"))
	require.Equal(t, "张*", b.text("#borrower-name"))
	require.Regexp(t, `^3301\*{10}\d{3}[0-9X]$`, b.text("#borrower-id-number"))
	require.Regexp(t, `^138\*{4}\d{4}$`, b.text("#borrower-phone"))
	href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.ID("temporal-link"), "href"))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("http://127.0.0.1:8233/namespaces/default/workflows/loan-%.0f", id), href.Value)
	b.shot("loan-due-diligence")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#reveal-form input[name=reason]`), "calling the borrower about the income proof"),
		chromedp.Click(chromedp.CSS(`#reveal-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#borrower .note`)),
	)
	require.Equal(t, "张三", b.text("#borrower-name"))
	require.Regexp(t, `^33010619900301\d{3}[0-9X]$`, b.text("#borrower-id-number"))

	// Due diligence: approve, regraded B at 8.5 %.
	b.open(loanPage)
	b.do(
		chromedp.Click(chromedp.CSS(`#form-due-diligence input[value=approve]`)),
		chromedp.SetValue(chromedp.CSS(`#form-due-diligence select[name=grade]`), "B"),
		chromedp.SendKeys(chromedp.CSS(`#form-due-diligence input[name=annual_rate]`), "0.085"),
		chromedp.SendKeys(chromedp.CSS(`#form-due-diligence textarea[name=note]`), "income verified"),
		chromedp.Click(chromedp.CSS(`#form-due-diligence button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	require.Contains(t, b.text("#flash"), "Due diligence: done")
	b.until(loanPage, "#loan-status", "listed")
	require.Contains(t, b.text("#history"), "due diligence: income verified", "ops read their note whole")
	require.Contains(t, b.text(".facts"), "B · 0.085")

	// A full-tender review while the loan is listed: refused, plainly.
	b.do(
		chromedp.Click(chromedp.CSS(`#action-full-tender-review summary`)),
		chromedp.Click(chromedp.CSS(`#form-full-tender-review input[value=approve]`)),
		chromedp.Click(chromedp.CSS(`#form-full-tender-review button`)),
		chromedp.WaitVisible(chromedp.ID("problem")),
	)
	problem := b.text("#problem")
	require.Contains(t, problem, "Refused: Conflict")
	require.Contains(t, problem, "invalid_state")
	require.Contains(t, problem, "the loan is not in a state that allows this")
	require.Equal(t, "listed", b.text("#loan-status"))
	b.shot("loan-refusal")

	// The investors fill it; the full-tender review.
	for i, inv := range investors {
		s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, obj{"amount": bids[i]}, 201)
	}
	s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
	b.open("/console/")
	require.Equal(t, "1", b.text(`[data-queue="full-review"]`))
	require.Equal(t, "0", b.text(`[data-queue="due-diligence"]`))
	b.shot("queues-full-review")
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#full-review a[href="%s"]`, loanPage))), chromedp.WaitVisible(chromedp.ID("form-full-tender-review")))
	b.do(
		chromedp.Click(chromedp.CSS(`#form-full-tender-review input[value=approve]`)),
		chromedp.SendKeys(chromedp.CSS(`#form-full-tender-review textarea[name=note]`), "bids verified"),
		chromedp.Click(chromedp.CSS(`#form-full-tender-review button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	require.Contains(t, b.text("#flash"), "Full-tender review: done")
	b.until(loanPage, "#loan-status", "repaying")
	schedule := b.text("#schedule")
	for _, want := range []string{"2026-02-28", "19859.00", "425.00", "2026-03-31", "2026-04-30", "20141.33", "60000.00"} {
		require.Contains(t, schedule, want)
	}
	investorsText := b.text("#investors")
	for _, want := range []string{"30000.00", "50.00 %", "33.33 %", "16.67 %", "disbursed"} {
		require.Contains(t, investorsText, want)
	}
	b.shot("loan-repaying")

	// The clock, by its form. The borrower authorized nothing and pays
	// nothing: installment 1 (due 28 Feb) goes overdue on 1 March.
	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	snapshotOf := func(day string) {
		t.Helper()
		s.waitFor("the snapshot of "+day, func() bool {
			var n int
			require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM disclosure_snapshots WHERE business_date = $1`, day).Scan(&n))
			return n == 1
		})
	}
	snapshotOf("2026-01-31")
	advance := func(to string, shot bool) {
		t.Helper()
		b.open("/console/clock")
		b.do(
			chromedp.SetValue(chromedp.CSS(`#advance-form input[name=to]`), to),
			chromedp.Click(chromedp.CSS(`#advance-form button`)),
		)
		// The form's answer is the clock page with this advance on it (the
		// page before it may show the last one).
		testwait.Within(time.Minute).Every(100*time.Millisecond).For(t, "the advance to "+to+" to start", func() bool {
			h, err := b.tryText("#advance h2")
			return err == nil && strings.HasSuffix(h, "to "+to)
		})
		if shot {
			b.shot("clock-advancing") // whatever the advance shows as it runs
		}
		// The page polls and reloads itself when the advance ends; the test
		// opens it afresh until it says so (a finished page has no script).
		testwait.Within(3*time.Minute).Every(300*time.Millisecond).For(t, "the advance to "+to+" to finish", func() bool {
			// The page's own reload may abort this navigation, or this one it.
			_ = chromedp.Do(b.ctx, chromedp.Navigate(b.base+"/console/clock"))
			head, _ := b.tryText("#advance h2")
			state, err := b.tryText("#advance-state")
			require.False(t, strings.HasPrefix(state, "Stopped"), state)
			return err == nil && strings.HasSuffix(head, "to "+to) && strings.HasPrefix(state, "Done")
		})
		require.Equal(t, to, b.text("#clock-today"))
		require.Contains(t, b.text("#advance-state"), "every loan has handled every event up to "+to)
		snapshotOf(to)
	}
	b.open("/console/clock")
	b.shot("clock")
	advance("2026-03-15", false) // DPD 15: M1, no task yet
	b.open("/console/")
	require.Equal(t, "0", b.text(`[data-queue="collection"]`))
	advance("2026-04-10", true) // installment 1 at DPD 41: M2, a collection task
	b.shot("clock-done")
	b.open("/console/")
	require.Equal(t, "1", b.text(`[data-bucket="M2"]`))
	tasks := b.text("#collection")
	require.Contains(t, tasks, "张三", "ops see whom to call")
	require.Contains(t, tasks, "2026-03-31", "the task opened at DPD 31")
	b.shot("queues-collection")
	advance("2026-05-15", false) // DPD 76: M3
	advance("2026-06-01", false) // DPD 93: more than 90 days; ops are asked to write off (DPD 91, 30 May)
	b.open("/console/")
	require.Equal(t, "1", b.text(`[data-queue="write-off"]`))
	require.Equal(t, "1", b.text(`[data-bucket="M3+"]`))
	require.Contains(t, b.text("#write-off"), "93 days past due")
	b.shot("queues")

	// The disclosure figures and the chart of every day's snapshot.
	b.open("/console/disclosure")
	// 1 June: installment 1 (due 28 Feb) is 93 days past due, 2 (31 Mar) 62, 3 (30 Apr) 32.
	require.NotEqual(t, "0.00", b.text(`[data-bucket="M3+"]`))
	require.NotEqual(t, "0.00", b.text(`[data-bucket="M3"]`))
	require.NotEqual(t, "0.00", b.text(`[data-bucket="M2"]`))
	require.Equal(t, "0.00", b.text(`[data-bucket="M1"]`))
	require.Equal(t, 4, b.count("svg.chart polygon"), "one band per bucket")
	require.GreaterOrEqual(t, b.count("svg.chart circle"), 5, "a point per snapshot: 31 Jan and the four advances")
	b.shot("disclosure")

	// The write-off, by its form.
	b.open(loanPage)
	b.do(
		chromedp.Click(chromedp.CSS(`#form-write-off input[value=approve]`)),
		chromedp.SendKeys(chromedp.CSS(`#form-write-off textarea[name=note]`), "no contact for 90 days"),
		chromedp.Click(chromedp.CSS(`#form-write-off button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	b.until(loanPage, "#loan-status", "written off")
	require.Contains(t, b.text("#schedule"), "written off")
	b.shot("loan-written-off")

	// The day of disbursement reconciles.
	b.open("/console/reconciliation?date=2026-01-31")
	require.Equal(t, "matched", b.text("#recon-status"))
	b.shot("reconciliation")

	// Every action went through the API's own audit log.
	var actions []string
	for _, it := range s.call("GET", "/v1/ops/audit?limit=100", ops, nil, 200)["items"].([]any) {
		actions = append(actions, it.(obj)["action"].(string)+" "+it.(obj)["target"].(string))
	}
	l := fmt.Sprintf("loan:%.0f", id)
	require.Equal(t, []string{"write_off " + l, "clock_advance clock:2026-06-01", "clock_advance clock:2026-05-15",
		"clock_advance clock:2026-04-10", "clock_advance clock:2026-03-15", "full_tender_review " + l, "due_diligence " + l,
		fmt.Sprintf("borrower_reveal user:%.0f", borrower.id)}, actions)

	// The bank's calendar (docs/calendar.md): ops set part of 2026's Spring
	// Festival and its make-up Saturday by the form; the page shows the year.
	b.open("/console/calendar?year=2026")
	require.Contains(t, b.text("#calendar-set"), "Not set")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#calendar-form textarea[name=holidays]`), "2026-02-16, 2026-02-17"),
		chromedp.SendKeys(chromedp.CSS(`#calendar-form textarea[name=workdays]`), "2026-02-14"),
		chromedp.Click(chromedp.CSS(`#calendar-form button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	require.Equal(t, "The calendar of 2026 is saved.", b.text("#flash"))
	require.Equal(t, "2026-02-16\n2026-02-17", b.text("#holidays"))
	require.Equal(t, "2026-02-14", b.text("#workdays"))
	b.shot("calendar")

	// Signing out ends the session.
	b.do(chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.ID("login-form")))
	b.open("/console/")
	require.Equal(t, "/console/login", b.location())
}
