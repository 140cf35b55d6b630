package money

import (
	"math/rand"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func due(penalty, interest, principal string) Due {
	return Due{Penalty: d(penalty), Interest: d(interest), Principal: d(principal)}
}

func dueStrs(ds []Due) [][3]string {
	out := make([][3]string, len(ds))
	for i, x := range ds {
		out[i] = [3]string{x.Penalty.StringFixed(2), x.Interest.StringFixed(2), x.Principal.StringFixed(2)}
	}
	return out
}

func TestAllocateHandWorked(t *testing.T) {
	// Two overdue installments: the older owes 10.00 penalty, 20.00 interest,
	// 100.00 principal (130.00); the newer 1.00, 2.00, 3.00 (6.00).
	dues := []Due{due("10.00", "20.00", "100.00"), due("1.00", "2.00", "3.00")}
	for _, tc := range []struct {
		name     string
		payment  string
		want     [][3]string
		leftover string
	}{
		{"nothing paid", "0.00", [][3]string{{"0.00", "0.00", "0.00"}, {"0.00", "0.00", "0.00"}}, "0.00"},
		{"penalty first", "5.00", [][3]string{{"5.00", "0.00", "0.00"}, {"0.00", "0.00", "0.00"}}, "0.00"},
		// 25.00: 10.00 penalty, then 15.00 of the 20.00 interest.
		{"then interest", "25.00", [][3]string{{"10.00", "15.00", "0.00"}, {"0.00", "0.00", "0.00"}}, "0.00"},
		// 100.00: 10.00 + 20.00, then 70.00 of the principal; the newer gets nothing,
		// not even its penalty, while the older is open.
		{"oldest first", "100.00", [][3]string{{"10.00", "20.00", "70.00"}, {"0.00", "0.00", "0.00"}}, "0.00"},
		// 131.50: the older's 130.00, then 1.00 penalty and 0.50 interest of the newer.
		{"into the newer", "131.50", [][3]string{{"10.00", "20.00", "100.00"}, {"1.00", "0.50", "0.00"}}, "0.00"},
		{"exactly everything", "136.00", [][3]string{{"10.00", "20.00", "100.00"}, {"1.00", "2.00", "3.00"}}, "0.00"},
		{"more than due", "140.00", [][3]string{{"10.00", "20.00", "100.00"}, {"1.00", "2.00", "3.00"}}, "4.00"},
		{"negative payment applies nothing", "-1.00", [][3]string{{"0.00", "0.00", "0.00"}, {"0.00", "0.00", "0.00"}}, "-1.00"},
	} {
		applied, left := Allocate(d(tc.payment), dues)
		assert.Equal(t, tc.want, dueStrs(applied), tc.name)
		assert.Equal(t, tc.leftover, left.StringFixed(2), tc.name)
	}
}

func TestAllocateSkipsWhatIsNotOwed(t *testing.T) {
	// A paid-off part (zero) or a nonsense negative part takes nothing and gives
	// nothing back.
	applied, left := Allocate(d("10.00"), []Due{due("0", "-5.00", "4.00"), due("0", "3.00", "0")})
	assert.Equal(t, [][3]string{{"0.00", "0.00", "4.00"}, {"0.00", "3.00", "0.00"}}, dueStrs(applied))
	assert.Equal(t, "3.00", left.StringFixed(2))

	applied, left = Allocate(d("10.00"), nil)
	assert.Empty(t, applied)
	assert.Equal(t, "10.00", left.StringFixed(2))
}

// FuzzAllocate: nothing applied exceeds what is due, part by part; applied
// plus leftover is the payment; an installment receives anything only once
// every older one is covered, and within one, interest only once penalty is
// covered and principal only once interest is; leftover is positive only
// when everything is covered.
func FuzzAllocate(f *testing.F) {
	f.Add(int64(10000), int64(1), uint8(2))
	f.Add(int64(0), int64(2), uint8(5))
	f.Add(int64(99999999), int64(3), uint8(12))
	f.Add(int64(13150), int64(4), uint8(1))
	f.Fuzz(func(t *testing.T, cents, seed int64, n uint8) {
		if cents < 0 || cents > 1e12 {
			return
		}
		rng := rand.New(rand.NewSource(seed))
		amount := func() decimal.Decimal {
			if rng.Intn(5) == 0 {
				return decimal.Zero
			}
			return decimal.New(rng.Int63n(10_000_000), -2)
		}
		dues := make([]Due, int(n%37))
		for i := range dues {
			dues[i] = Due{Penalty: amount(), Interest: amount(), Principal: amount()}
		}
		payment := decimal.New(cents, -2)
		applied, left := Allocate(payment, dues)
		require.Len(t, applied, len(dues))
		require.False(t, left.IsNegative())

		total := left
		covered := true // every part before this one is fully paid
		for i := range dues {
			owed := []decimal.Decimal{dues[i].Penalty, dues[i].Interest, dues[i].Principal}
			got := []decimal.Decimal{applied[i].Penalty, applied[i].Interest, applied[i].Principal}
			for p := range owed {
				require.False(t, got[p].IsNegative())
				require.True(t, got[p].LessThanOrEqual(owed[p]), "installment %d part %d: %s applied, %s due", i, p, got[p], owed[p])
				if !covered {
					require.True(t, got[p].IsZero(), "installment %d part %d paid before an older part", i, p)
				}
				covered = covered && got[p].Equal(owed[p])
				total = total.Add(got[p])
			}
		}
		require.True(t, total.Equal(payment), "applied + leftover = %s, payment %s", total, payment)
		if left.IsPositive() {
			require.True(t, covered, "leftover while something is still due")
		}
	})
}
