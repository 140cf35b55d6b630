package money

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitHandWorked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		total   string
		weights []string
		want    []string
	}{
		// 33.333… each; floors 33.33 ×3 = 99.99; one cent left; the three remainders
		// (0.00333…) tie, so the earliest claim gets it.
		{"three-way tie goes to the earliest", "100.00", []string{"1", "1", "1"}, []string{"33.34", "33.33", "33.33"}},
		// Exact 9929.50 (remainder 0), 6619.666… (0.00667), 3309.833… (0.00333);
		// floors sum to 19858.99; the cent goes to the largest remainder, the second claim.
		{"largest remainder", "19859.00", []string{"30000", "20000", "10000"}, []string{"9929.50", "6619.67", "3309.83"}},
		// 3.333… and 6.666…: the later claim's remainder is larger and beats the earlier one.
		{"larger remainder beats earlier claim", "10.00", []string{"1", "2"}, []string{"3.33", "6.67"}},
		// Exact 0.002, 0.004, 0.004: all floors 0; the one cent goes to the larger remainder,
		// and of the two tied at 0.004 to the earlier, index 1.
		{"tie among the largest, not the first", "0.01", []string{"1", "2", "2"}, []string{"0.00", "0.01", "0.00"}},
		// Exact 0.004, 0.008, 0.008: two cents for the two largest remainders.
		{"two cents, two tied largest", "0.02", []string{"1", "2", "2"}, []string{"0.00", "0.01", "0.01"}},
		// Nothing rounds down above zero; five cents to the five earliest of six equal claims.
		{"five cents among six", "0.05", []string{"1", "1", "1", "1", "1", "1"}, []string{"0.01", "0.01", "0.01", "0.01", "0.01", "0.00"}},
		// A zero weight's remainder is 0 and it never gets a leftover cent.
		{"zero weight gets nothing", "0.01", []string{"0", "1", "1"}, []string{"0.00", "0.01", "0.00"}},
		{"zero weight, even split", "1.00", []string{"0", "1", "1"}, []string{"0.00", "0.50", "0.50"}},
		{"one claim takes all", "123.45", []string{"100"}, []string{"123.45"}},
		{"nothing to split", "0", []string{"1", "2"}, []string{"0.00", "0.00"}},
		// Weights as bid amounts with fen and a scale: only their ratios matter.
		// 50.00 by 100.50 : 200.00 : 99.50 (sum 400.00) → 12.5625, 25.00, 12.4375 →
		// floors 12.56, 25.00, 12.43 (49.99); remainders 0.0025, 0, 0.0075 → the last.
		{"weights with fen", "50.00", []string{"100.50", "200.00", "99.50"}, []string{"12.56", "25.00", "12.44"}},
		// A negative total mirrors the positive split.
		{"negative total mirrors", "-100.00", []string{"1", "1", "1"}, []string{"-33.34", "-33.33", "-33.33"}},
	} {
		got := Split(d(tc.total), ds(tc.weights...))
		assert.Equal(t, tc.want, strs(got), tc.name)
	}
}

func TestSplitScaleOfWeightsDoesNotMatter(t *testing.T) {
	a := Split(d("1000.00"), ds("0.3", "0.7", "1"))
	b := Split(d("1000.00"), ds("300000", "700000", "1000000"))
	assert.Equal(t, strs(a), strs(b))
	assert.Equal(t, []string{"150.00", "350.00", "500.00"}, strs(a))
}

func TestSplitSubCentTotal(t *testing.T) {
	// Never an amount, but the sum must stay exact: split in units of 0.001.
	got := Split(d("1.005"), ds("1", "1"))
	assert.Equal(t, "1.005", sumOf(got).String())
	assert.Equal(t, []string{"0.503", "0.502"}, []string{got[0].StringFixed(3), got[1].StringFixed(3)})
}

func TestSplitRefusesImpossibleWeights(t *testing.T) {
	assert.Panics(t, func() { Split(d("1.00"), ds("1", "-1", "1")) }, "negative weight")
	assert.Panics(t, func() { Split(d("1.00"), ds("0", "0")) }, "no weight to split by")
	assert.Panics(t, func() { Split(d("1.00"), nil) }, "no claims")
	assert.Empty(t, Split(decimal.Zero, nil))
}

// FuzzSplit: the shares sum to the total exactly, each differs from its
// exact pro-rata value by less than 0.01 (it is the floor or the floor plus a
// cent), and the extra cents went to the largest remainders, ties to the
// earliest claim.
func FuzzSplit(f *testing.F) {
	f.Add(int64(1985900), int64(7), uint8(3), false)
	f.Add(int64(5), int64(1), uint8(6), false)
	f.Add(int64(99999999), int64(42), uint8(50), true)
	f.Add(int64(1), int64(3), uint8(2), true)
	f.Fuzz(func(t *testing.T, cents, seed int64, n uint8, equalWeights bool) {
		if cents < 0 || cents > 1e13 {
			return
		}
		rng := rand.New(rand.NewSource(seed))
		weights := make([]decimal.Decimal, int(n%64)+1)
		for i := range weights {
			switch {
			case equalWeights:
				weights[i] = d("100.00") // every remainder ties
			case rng.Intn(10) == 0:
				weights[i] = decimal.Zero
			default:
				weights[i] = decimal.New(rng.Int63n(20_000_000)+1, -2)
			}
		}
		weights[0] = weights[0].Add(d("100.00")) // at least one positive weight
		sum := sumOf(weights)
		total := decimal.New(cents, -2)
		shares := Split(total, weights)
		require.Len(t, shares, len(weights))
		require.True(t, sumOf(shares).Equal(total), "shares sum to %s, not %s", sumOf(shares), total)

		rem := make([]*big.Rat, len(shares))
		extra := make([]bool, len(shares))
		for i, s := range shares {
			exact := quo(mul(rat(total), rat(weights[i])), rat(sum))
			floor := exact.Num()
			floor = new(big.Int).Quo(new(big.Int).Mul(floor, big.NewInt(100)), exact.Denom())
			floorD := decimal.NewFromBigInt(floor, -2)
			require.True(t, s.Equal(floorD) || s.Equal(floorD.Add(cent)), "share %s vs exact %s", s, decimal.NewFromBigRat(exact, 6))
			extra[i] = s.GreaterThan(floorD)
			rem[i] = new(big.Rat).Sub(exact, rat(floorD))
			diff := new(big.Rat).Sub(rat(s), exact)
			require.Negative(t, new(big.Rat).Abs(diff).Cmp(rat(cent)), "share %s more than a cent from %s", s, decimal.NewFromBigRat(exact, 6))
			if weights[i].IsZero() {
				require.True(t, s.IsZero())
			}
		}
		for i := range shares {
			for j := range shares {
				if extra[i] && !extra[j] {
					c := rem[i].Cmp(rem[j])
					require.True(t, c > 0 || c == 0 && i < j, "claim %d got a cent before %d", i, j)
				}
			}
		}
	})
}

func TestClaimSharesReturnEveryPrincipalExactly(t *testing.T) {
	// The end-to-end loan: 60,000.00 at 8.5 % over 3 months, bids 30000/20000/10000.
	// Splitting each installment alone pays the first claim 9929.50+9999.83+10070.66
	// = 29999.99; taking the remainder last pays it 10070.67, so 30000.00 in all.
	s, err := Schedule(d("60000.00"), d("0.085"), 3, EqualInstallment, day(2026, 1, 31))
	require.NoError(t, err)
	ps, is := parts(s)
	claims := ds("30000.00", "20000.00", "10000.00")
	principal, interest := ClaimShares(ps, is, claims)
	assert.Equal(t, []string{"9929.50", "6619.67", "3309.83"}, strs(principal[0]))
	assert.Equal(t, []string{"10070.67", "6713.77", "3356.89"}, strs(principal[2]))
	assert.Equal(t, strs(Split(ps[2], claims)), []string{"10070.66", "6713.78", "3356.89"}, "what the plain split would have paid")
	checkClaimShares(t, ps, is, claims, principal, interest)
}

func parts(s []Installment) (principals, interests []decimal.Decimal) {
	for _, i := range s {
		principals, interests = append(principals, i.Principal), append(interests, i.Interest)
	}
	return principals, interests
}

func checkClaimShares(t *testing.T, ps, is, claims []decimal.Decimal, principal, interest [][]decimal.Decimal) {
	t.Helper()
	for c := range claims {
		got := decimal.Zero
		for k := range ps {
			require.False(t, principal[k][c].IsNegative(), "claim %d installment %d", c, k+1)
			got = got.Add(principal[k][c])
		}
		require.True(t, got.Equal(claims[c]), "claim %d got back %s of %s", c, got, claims[c])
	}
	for k := range ps {
		require.True(t, sumOf(principal[k]).Equal(ps[k]), "installment %d principal", k+1)
		require.True(t, sumOf(interest[k]).Equal(is[k]), "installment %d interest", k+1)
		require.Equal(t, strs(Split(is[k], claims)), strs(interest[k]), "interest is split by the rule")
		if k < len(ps)-1 {
			require.Equal(t, strs(Split(ps[k], claims)), strs(principal[k]), "principal but the last is split by the rule")
		}
	}
}

// FuzzClaimShares: over any schedule and bids of at least 100.00 (the
// minimum), every investor gets back exactly the principal lent, no share is
// negative, and every installment's shares sum to it.
func FuzzClaimShares(f *testing.F) {
	f.Add(int64(6000000), uint8(0), uint8(2), int64(1))
	f.Add(int64(20000000), uint8(1), uint8(35), int64(2))
	f.Add(int64(100001), uint8(0), uint8(35), int64(3))
	f.Fuzz(func(t *testing.T, cents int64, method, term uint8, seed int64) {
		if cents < 100000 || cents > 20000000 {
			return
		}
		m := []Method{EqualInstallment, EqualPrincipal, InterestOnly, Bullet}[method%4]
		s, err := Schedule(decimal.New(cents, -2), d("0.18"), int(term%36)+1, m, day(2026, 1, 31))
		require.NoError(t, err)
		// Bids in whole yuan of at least 100.00, the last one taking what is left.
		rng := rand.New(rand.NewSource(seed))
		var claims []decimal.Decimal
		left := cents
		for left > 0 {
			bid := min(left, (100+rng.Int63n(cents/100))*100)
			if left-bid < 10000 {
				bid = left
			}
			claims = append(claims, decimal.New(bid, -2))
			left -= bid
		}
		ps, is := parts(s)
		principal, interest := ClaimShares(ps, is, claims)
		checkClaimShares(t, ps, is, claims, principal, interest)
	})
}
