package sim_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
)

// freezeOf is a freeze request of amount on a.
func freezeOf(no string, a acct, amount string) bank.FreezeRequest {
	return bank.FreezeRequest{RequestNo: no, AccountNo: a.no, Amount: dec(amount)}
}

// A number twice in one group fails the group's transaction on the request's
// key; each freeze then goes alone, so the work is done once and the repeat
// answered as any repeat is.
func TestFreezeGroupRepeatedNumber(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("100.00")
	b := e.open("100.00")
	no := e.no("f")
	other := e.no("f")
	got, err := e.sim.FreezeInOneGroup(e.ctx, freezeOf(no, a, "30.00"), freezeOf(other, b, "5.00"), freezeOf(no, a, "30.00"))
	require.NoError(t, err)
	for i, g := range got {
		require.Equal(t, bank.StatusSucceeded, g.Result.Status, "freeze %d", i)
		require.Empty(t, g.Code, "freeze %d", i)
	}
	require.Equal(t, got[0].Result, got[2].Result)
	require.True(t, got[1].Applied, "the other freeze is applied, alone")
	e.balance(a.no, "70.00", "30.00")
	e.balance(b.no, "95.00", "5.00")

	// The same number for other content: the first is the number's, the
	// second refused.
	no = e.no("f")
	got, err = e.sim.FreezeInOneGroup(e.ctx, freezeOf(no, a, "10.00"), freezeOf(no, a, "20.00"))
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, got[0].Result.Status)
	require.Equal(t, bank.CodeRequestNoReused, got[1].Code)
	e.balance(a.no, "60.00", "40.00")
	res, err := e.c.Query(e.ctx, no)
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, res.Status)

	// A number recorded before the group is answered, not done again; the
	// freeze ahead of it in the group (a's account number is lower), rolled
	// back with the group, is applied again alone.
	got, err = e.sim.FreezeInOneGroup(e.ctx, freezeOf(other, b, "5.00"), freezeOf(e.no("f"), b, "1.00"), freezeOf(e.no("f"), a, "2.00"))
	require.NoError(t, err)
	require.False(t, got[0].Applied)
	require.Equal(t, bank.StatusSucceeded, got[0].Result.Status)
	require.True(t, got[1].Applied)
	require.True(t, got[2].Applied)
	e.balance(a.no, "58.00", "42.00")
	e.balance(b.no, "94.00", "6.00")
}

// A refused freeze writes nothing in the group, which commits the others;
// the refusal is then recorded the long way.
func TestFreezeGroupOneRefused(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("100.00")
	poor := e.open("10.00")
	c := e.open("100.00")
	short := e.no("f")
	got, err := e.sim.FreezeInOneGroup(e.ctx, freezeOf(e.no("f"), a, "50.00"), freezeOf(short, poor, "20.00"),
		freezeOf(e.no("f"), c, "100.00"), freezeOf(e.no("f"), acct{no: bank.AccountFee}, "1.00"),
		freezeOf(e.no("f"), acct{no: "CA-none"}, "1.00"))
	require.NoError(t, err)
	require.True(t, got[0].Applied)
	require.True(t, got[2].Applied)
	for i, want := range map[int]string{1: bank.CodeInsufficientBalance, 3: bank.CodeAccountRestricted, 4: bank.CodeAccountNotFound} {
		require.False(t, got[i].Applied, "freeze %d", i)
		require.Equal(t, want, got[i].Code, "freeze %d", i)
	}
	e.balance(a.no, "50.00", "50.00")
	e.balance(poor.no, "10.00", "0.00")
	e.balance(c.no, "0.00", "100.00")
	res, err := e.c.Query(e.ctx, short)
	require.NoError(t, err)
	require.Equal(t, bank.StatusFailed, res.Status)
	require.Equal(t, bank.CodeInsufficientBalance, res.Code)
}

// Two freezes of one account in one group are both applied, in arrival
// order: the second sees what the first left.
func TestFreezeGroupOneAccountTwice(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("100.00")
	b := e.open("100.00")
	got, err := e.sim.FreezeInOneGroup(e.ctx, freezeOf(e.no("f"), b, "1.00"), freezeOf(e.no("f"), a, "30.00"),
		freezeOf(e.no("f"), b, "2.00"), freezeOf(e.no("f"), a, "50.00"))
	require.NoError(t, err)
	for i, g := range got {
		require.True(t, g.Applied, "freeze %d", i)
	}
	e.balance(a.no, "20.00", "80.00")
	e.balance(b.no, "97.00", "3.00")

	got, err = e.sim.FreezeInOneGroup(e.ctx, freezeOf(e.no("f"), a, "15.00"), freezeOf(e.no("f"), a, "10.00"))
	require.NoError(t, err)
	require.True(t, got[0].Applied)
	require.Equal(t, bank.CodeInsufficientBalance, got[1].Code)
	e.balance(a.no, "5.00", "95.00")
}

// Many freezes at once, each sent twice, over a few accounts: every account
// ends with exactly what its successes took, and a repeat answers as its
// first did.
func TestFreezeBurst(t *testing.T) {
	e := newEnv(t, sim.Config{})
	const accounts, each = 5, 20
	accts := make([]acct, accounts)
	for i := range accts {
		accts[i] = e.open("1000.00") // 16 freezes of 60.00 fit, 4 do not
	}
	type answer struct {
		ok   bool
		code string
	}
	var mu sync.Mutex
	answers := map[string][]answer{}
	var wg sync.WaitGroup
	for i := 0; i < accounts*each; i++ {
		no := fmt.Sprintf("burst-%d", i)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.c.Freeze(e.ctx, freezeOf(no, accts[i%accounts], "60.00"))
				var be *bank.Error
				if err != nil && !errors.As(err, &be) {
					t.Errorf("%s: %v", no, err)
					return
				}
				a := answer{ok: err == nil}
				if be != nil {
					a.code = be.Code
				}
				mu.Lock()
				answers[no] = append(answers[no], a)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	ok := map[string]int{}
	for i := 0; i < accounts*each; i++ {
		no := fmt.Sprintf("burst-%d", i)
		got := answers[no]
		require.Len(t, got, 2, no)
		require.Equal(t, got[0], got[1], "%s: a repeat answers as the first", no)
		if got[0].ok {
			ok[accts[i%accounts].no]++
		} else {
			require.Equal(t, bank.CodeInsufficientBalance, got[0].code, no)
		}
	}
	for _, a := range accts {
		require.Equal(t, 16, ok[a.no], a.no)
		e.balance(a.no, "40.00", "960.00")
	}
}
