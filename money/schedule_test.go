package money

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDueDate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start time.Time
		k     int
		want  time.Time
	}{
		{"mid-month", day(2026, 1, 15), 1, day(2026, 2, 15)},
		{"31 Jan → 28 Feb", day(2026, 1, 31), 1, day(2026, 2, 28)},
		{"31 Jan → 31 Mar, from the original day, not 28 Mar", day(2026, 1, 31), 2, day(2026, 3, 31)},
		{"31 Jan → 30 Apr", day(2026, 1, 31), 3, day(2026, 4, 30)},
		{"31 Jan → 29 Feb in a leap year", day(2028, 1, 31), 1, day(2028, 2, 29)},
		{"30 Jan → 29 Feb in a leap year", day(2028, 1, 30), 1, day(2028, 2, 29)},
		{"29 Feb → 29 Mar", day(2028, 2, 29), 1, day(2028, 3, 29)},
		{"29 Feb → 28 Feb a year on", day(2028, 2, 29), 12, day(2029, 2, 28)},
		{"29 Feb → 29 Feb four years on", day(2028, 2, 29), 48, day(2032, 2, 29)},
		{"31 Aug → 30 Sep", day(2026, 8, 31), 1, day(2026, 9, 30)},
		{"across the year", day(2026, 12, 31), 2, day(2027, 2, 28)},
		{"36 months", day(2026, 1, 31), 36, day(2029, 1, 31)},
		{"k = 0 is the start", day(2026, 1, 31), 0, day(2026, 1, 31)},
		// 23:30 on 31 Jan in Shanghai is still 31 Jan there (15:30 UTC).
		{"civil date read in start's zone", time.Date(2026, 1, 31, 23, 30, 0, 0, PlatformZone), 1, day(2026, 2, 28)},
	} {
		got := DueDate(tc.start, tc.k)
		assert.Equal(t, tc.want, got, tc.name)
		assert.Equal(t, time.UTC, got.Location(), tc.name)
	}
}

type row struct{ principal, interest, payment, remaining string }

func rowOf(i Installment) row {
	return row{i.Principal.StringFixed(2), i.Interest.StringFixed(2), i.Payment.StringFixed(2), i.RemainingPrincipal.StringFixed(2)}
}

func rows(s []Installment) []row {
	out := make([]row, len(s))
	for k, i := range s {
		out[k] = rowOf(i)
	}
	return out
}

func totals(s []Installment) (principal, interest decimal.Decimal) {
	principal, interest = decimal.Zero, decimal.Zero
	for _, i := range s {
		principal, interest = principal.Add(i.Principal), interest.Add(i.Interest)
	}
	return principal, interest
}

func TestScheduleEqualInstallmentFullTable(t *testing.T) {
	// 10,000.00 at 12 % a year over 12 months. r = 0.12/12 = 0.01.
	// A = 10000·0.01·1.01^12 / (1.01^12 − 1) = 100·1.12682503 / 0.12682503
	//   = 888.48788678… → 888.49.
	// 1: interest 10000.00·0.01 = 100.00; principal 888.49 − 100.00 = 788.49;
	//    balance 10000.00 − 788.49 = 9211.51.
	// 2: interest 9211.51·0.01 = 92.1151 → 92.12; principal 796.37; balance 8415.14.
	// …
	// 12: the whole remaining 879.67, interest 8.7967 → 8.80, payment 888.47
	//     (two cents under A: A was rounded down by 0.0021 a month).
	s, err := Schedule(d("10000.00"), d("0.12"), 12, EqualInstallment, day(2026, 1, 15))
	require.NoError(t, err)
	assert.Equal(t, []row{
		{"788.49", "100.00", "888.49", "9211.51"},
		{"796.37", "92.12", "888.49", "8415.14"},
		{"804.34", "84.15", "888.49", "7610.80"},
		{"812.38", "76.11", "888.49", "6798.42"},
		{"820.51", "67.98", "888.49", "5977.91"},
		{"828.71", "59.78", "888.49", "5149.20"},
		{"837.00", "51.49", "888.49", "4312.20"},
		{"845.37", "43.12", "888.49", "3466.83"},
		{"853.82", "34.67", "888.49", "2613.01"},
		{"862.36", "26.13", "888.49", "1750.65"},
		{"870.98", "17.51", "888.49", "879.67"},
		{"879.67", "8.80", "888.47", "0.00"},
	}, rows(s))
	for k, i := range s {
		assert.Equal(t, k+1, i.No)
		assert.Equal(t, day(2026, time.Month(2+k), 15), i.DueDate)
	}
	p, i := totals(s)
	assert.Equal(t, "10000.00", p.StringFixed(2))
	assert.Equal(t, "661.86", i.StringFixed(2))
}

func TestScheduleHandWorked(t *testing.T) {
	for _, tc := range []struct {
		name      string
		p, rate   string
		n         int
		m         Method
		want      map[int]row // installment No → row
		total     string      // sum of interest
		lastPayNo int
	}{
		{
			// 10,000.01 at 12 %: A = round(10000.01·0.0888487887) = round(888.4887…) = 888.49,
			// as for 10,000.00; the extra fen stays in the balance until the last period.
			// 1: interest round(100.0001) = 100.00, principal 788.49, balance 9211.52.
			// 12: remaining 879.68 + round(8.7968) = 8.80 → 888.48.
			name: "fen in the amount", p: "10000.01", rate: "0.12", n: 12, m: EqualInstallment,
			want:  map[int]row{1: {"788.49", "100.00", "888.49", "9211.52"}, 12: {"879.68", "8.80", "888.48", "0.00"}},
			total: "661.86",
		},
		{
			// 10,000.00 at 18 % over 36 months: r = 0.015, 1.015^36 = 1.70913954…,
			// A = 150·1.70913954/0.70913954 = 361.523955… → 361.52.
			// 1: interest 150.00, principal 211.52, balance 9788.48.
			// 2: interest 9788.48·0.015 = 146.8272 → 146.83, principal 214.69, balance 9573.79.
			// 36: remaining 356.34 + round(5.3451) = 5.35 → 361.69.
			name: "36 months at 18 %", p: "10000.00", rate: "0.18", n: 36, m: EqualInstallment,
			want: map[int]row{
				1: {"211.52", "150.00", "361.52", "9788.48"}, 2: {"214.69", "146.83", "361.52", "9573.79"},
				35: {"350.91", "10.61", "361.52", "356.34"}, 36: {"356.34", "5.35", "361.69", "0.00"},
			},
			total: "3014.89",
		},
		{
			// The largest loan, 200,000.00 at 18 % over 36 months: A = round(7230.4791…) = 7230.48;
			// 1: interest 3000.00, principal 4230.48. 36: remaining 7123.58 + round(106.8537) = 106.85.
			name: "200,000.00 over 36 months at 18 %", p: "200000.00", rate: "0.18", n: 36, m: EqualInstallment,
			want:  map[int]row{1: {"4230.48", "3000.00", "7230.48", "195769.52"}, 36: {"7123.58", "106.85", "7230.43", "0.00"}},
			total: "60297.23",
		},
		{
			// Grade B, 8.5 %: r = 0.0070833…, A = round(872.1978…) = 872.20;
			// 1: interest round(70.8333…) = 70.83, principal 801.37.
			name: "grade B rate, no finite monthly rate", p: "10000.00", rate: "0.085", n: 12, m: EqualInstallment,
			want:  map[int]row{1: {"801.37", "70.83", "872.20", "9198.63"}, 2: {"807.04", "65.16", "872.20", "8391.59"}},
			total: "466.37",
		},
		{
			// round(10000/3) = 3333.33 twice, the last takes 3333.34;
			// interest on the balance at 1 %: 100.00, 66.6667 → 66.67, 33.3334 → 33.33.
			name: "equal principal", p: "10000.00", rate: "0.12", n: 3, m: EqualPrincipal,
			want: map[int]row{
				1: {"3333.33", "100.00", "3433.33", "6666.67"},
				2: {"3333.33", "66.67", "3400.00", "3333.34"},
				3: {"3333.34", "33.33", "3366.67", "0.00"},
			},
			total: "200.00",
		},
		{
			// round(10000/6) = round(1666.666…) = 1666.67 rounds up, so the last takes less:
			// 10000.00 − 5·1666.67 = 1666.65. Interest at 14/12 %: 116.666… → 116.67, …,
			// 6: 1666.65·0.14/12 = 19.444… → 19.44.
			name: "equal principal rounded up", p: "10000.00", rate: "0.14", n: 6, m: EqualPrincipal,
			want: map[int]row{
				1: {"1666.67", "116.67", "1783.34", "8333.33"},
				2: {"1666.67", "97.22", "1763.89", "6666.66"},
				6: {"1666.65", "19.44", "1686.09", "0.00"},
			},
			total: "408.33",
		},
		{
			// round(10000.01/12) = round(833.334166…) = 833.33; the last takes
			// 10000.01 − 11·833.33 = 833.38. Interest 1: 10000.01·0.065/12 = 54.16672… → 54.17;
			// 2: 9166.68·0.065/12 = 49.65285 → 49.65; 12: 833.38·0.065/12 = 4.5141… → 4.51.
			name: "equal principal with fen", p: "10000.01", rate: "0.065", n: 12, m: EqualPrincipal,
			want: map[int]row{
				1:  {"833.33", "54.17", "887.50", "9166.68"},
				2:  {"833.33", "49.65", "882.98", "8333.35"},
				12: {"833.38", "4.51", "837.89", "0.00"},
			},
			total: "352.09",
		},
		{
			// Interest round(10000.01·0.065/12) = round(54.16672…) = 54.17 every month;
			// the last adds all principal.
			name: "interest only", p: "10000.01", rate: "0.065", n: 3, m: InterestOnly,
			want: map[int]row{
				1: {"0.00", "54.17", "54.17", "10000.01"},
				2: {"0.00", "54.17", "54.17", "10000.01"},
				3: {"10000.01", "54.17", "10054.18", "0.00"},
			},
			total: "162.51",
		},
		{
			// One installment at month 36: interest round(10000·0.015·36) = 5400.00.
			name: "bullet", p: "10000.00", rate: "0.18", n: 36, m: Bullet,
			want:  map[int]row{1: {"10000.00", "5400.00", "15400.00", "0.00"}},
			total: "5400.00",
		},
		{
			// 1003.00·0.085/12·12 = 85.255 exactly: an exact half cent, up to 85.26. With the
			// monthly rate cut to 30 digits (0.00708333…3) the product is 85.25499… → 85.25.
			name: "bullet on an exact half cent", p: "1003.00", rate: "0.085", n: 12, m: Bullet,
			want:  map[int]row{1: {"1003.00", "85.26", "1088.26", "0.00"}},
			total: "85.26",
		},
		{
			// 204.00·0.085/12 = 1.445 exactly → 1.45 (a truncated rate gives 1.44).
			name: "monthly interest on an exact half cent", p: "204.00", rate: "0.085", n: 2, m: InterestOnly,
			want:  map[int]row{1: {"0.00", "1.45", "1.45", "204.00"}, 2: {"204.00", "1.45", "205.45", "0.00"}},
			total: "2.90",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Schedule(d(tc.p), d(tc.rate), tc.n, tc.m, day(2026, 1, 31))
			require.NoError(t, err)
			if tc.m == Bullet {
				require.Len(t, s, 1)
			} else {
				require.Len(t, s, tc.n)
			}
			for no, want := range tc.want {
				assert.Equal(t, want, rowOf(s[no-1]), "installment %d", no)
			}
			p, i := totals(s)
			assert.Equal(t, d(tc.p).StringFixed(2), p.StringFixed(2), "principal parts sum to the amount")
			assert.Equal(t, tc.total, i.StringFixed(2), "total interest")
		})
	}
}

func TestScheduleOneMonth(t *testing.T) {
	// Every method reduces to one installment of P plus one month's interest:
	// 10,000.01·0.065/12 = 54.16672… → 54.17 (bullet: ·1 month, the same).
	for _, m := range []Method{EqualInstallment, EqualPrincipal, InterestOnly, Bullet} {
		s, err := Schedule(d("10000.01"), d("0.065"), 1, m, day(2026, 1, 31))
		require.NoError(t, err, m)
		require.Len(t, s, 1, m)
		assert.Equal(t, row{"10000.01", "54.17", "10054.18", "0.00"}, rowOf(s[0]), m)
		assert.Equal(t, day(2026, 2, 28), s[0].DueDate, m)
	}
}

func TestScheduleZeroRate(t *testing.T) {
	// The equal-installment formula is 0/0 at r = 0; its limit P/n is used:
	// A = round(1000/3) = 333.33, the last takes the remainder 333.34. Equal
	// principal is the same schedule.
	for _, m := range []Method{EqualInstallment, EqualPrincipal} {
		s, err := Schedule(d("1000.00"), decimal.Zero, 3, m, day(2026, 1, 15))
		require.NoError(t, err)
		assert.Equal(t, []row{
			{"333.33", "0.00", "333.33", "666.67"},
			{"333.33", "0.00", "333.33", "333.34"},
			{"333.34", "0.00", "333.34", "0.00"},
		}, rows(s), m)
	}
	s, err := Schedule(d("1000.00"), decimal.Zero, 3, InterestOnly, day(2026, 1, 15))
	require.NoError(t, err)
	assert.Equal(t, []row{{"0.00", "0.00", "0.00", "1000.00"}, {"0.00", "0.00", "0.00", "1000.00"}, {"1000.00", "0.00", "1000.00", "0.00"}}, rows(s))
	s, err = Schedule(d("1000.00"), decimal.Zero, 7, Bullet, day(2026, 1, 15))
	require.NoError(t, err)
	assert.Equal(t, []row{{"1000.00", "0.00", "1000.00", "0.00"}}, rows(s))
	assert.Equal(t, day(2026, 8, 15), s[0].DueDate)
}

func TestScheduleTinyAmountNeverOverpays(t *testing.T) {
	// Below any real loan, but the rule must hold: round(1.00/36) = 0.03, and
	// 34·0.03 = 1.02 > 1.00. Principal is capped at the balance: 33 payments of
	// 0.03 (0.99), then 0.01, then nothing.
	s, err := Schedule(d("1.00"), decimal.Zero, 36, EqualPrincipal, day(2026, 1, 15))
	require.NoError(t, err)
	assert.Equal(t, row{"0.03", "0.00", "0.03", "0.01"}, rowOf(s[32]))
	assert.Equal(t, row{"0.01", "0.00", "0.01", "0.00"}, rowOf(s[33]))
	assert.Equal(t, row{"0.00", "0.00", "0.00", "0.00"}, rowOf(s[35]))
}

func TestScheduleDueDates(t *testing.T) {
	// Disbursed on the 31st: each due date is the 31st or the month's last day,
	// never drifting to the 28th after February.
	s, err := Schedule(d("12000.00"), d("0.11"), 12, EqualPrincipal, day(2026, 1, 31))
	require.NoError(t, err)
	want := []time.Time{
		day(2026, 2, 28), day(2026, 3, 31), day(2026, 4, 30), day(2026, 5, 31), day(2026, 6, 30), day(2026, 7, 31),
		day(2026, 8, 31), day(2026, 9, 30), day(2026, 10, 31), day(2026, 11, 30), day(2026, 12, 31), day(2027, 1, 31),
	}
	for k, i := range s {
		assert.Equal(t, want[k], i.DueDate, "installment %d", i.No)
	}

	// Disbursed on leap day 29 Feb 2028: the 29th every month, and 28 Feb 2029.
	s, err = Schedule(d("13000.00"), d("0.14"), 13, EqualInstallment, day(2028, 2, 29))
	require.NoError(t, err)
	for k, i := range s[:11] {
		assert.Equal(t, day(2028, time.Month(3+k), 29), i.DueDate, "installment %d", i.No)
	}
	assert.Equal(t, day(2029, 1, 29), s[10].DueDate)
	assert.Equal(t, day(2029, 2, 28), s[11].DueDate)
	assert.Equal(t, day(2029, 3, 29), s[12].DueDate)
}

func TestScheduleRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		p, r string
		n    int
		m    Method
		want error
	}{
		{"negative amount", "-1.00", "0.1", 12, EqualInstallment, ErrAmountNotPositive},
		{"zero amount", "0", "0.1", 12, EqualInstallment, ErrAmountNotPositive},
		{"half a fen", "100.005", "0.1", 12, EqualInstallment, ErrAmountPrecision},
		{"negative rate", "100.00", "-0.1", 12, EqualInstallment, ErrNegativeRate},
		{"term 0", "100.00", "0.1", 0, EqualInstallment, ErrTerm},
		{"term -1", "100.00", "0.1", -1, Bullet, ErrTerm},
		{"term 37", "100.00", "0.1", 37, EqualInstallment, ErrTerm},
		{"unknown method", "100.00", "0.1", 12, "balloon", ErrUnknownMethod},
		{"empty method", "100.00", "0.1", 12, "", ErrUnknownMethod},
	} {
		s, err := Schedule(d(tc.p), d(tc.r), tc.n, tc.m, day(2026, 1, 1))
		assert.ErrorIs(t, err, tc.want, tc.name)
		assert.Nil(t, s, tc.name)
	}
}

func TestParseMethod(t *testing.T) {
	for _, m := range []Method{EqualInstallment, EqualPrincipal, InterestOnly, Bullet} {
		got, err := ParseMethod(string(m))
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	for _, s := range []string{"", "EQUAL_INSTALLMENT", "equal installment", "等额本息"} {
		_, err := ParseMethod(s)
		assert.ErrorIs(t, err, ErrUnknownMethod, s)
	}
}

func TestMonthlyInterest(t *testing.T) {
	assert.Equal(t, "100.00", MonthlyInterest(d("10000.00"), d("0.12")).StringFixed(2))
	assert.Equal(t, "1.45", MonthlyInterest(d("204.00"), d("0.085")).StringFixed(2), "1.445 exactly")
	assert.Equal(t, "0.00", MonthlyInterest(d("10000.00"), decimal.Zero).StringFixed(2))
}

// FuzzSchedule checks the invariants of every schedule: principal parts sum
// to the amount; balances never go negative and end at zero; each balance is
// the previous one less the principal; every part is an amount in cents;
// payment = principal + interest; due dates follow DueDate; equal-installment
// interest never rises period to period; each method's shape (level payment
// but the last, level principal but the last, flat interest, one bullet).
func FuzzSchedule(f *testing.F) {
	f.Add(int64(1000000), uint16(1200), uint8(11), uint8(0), uint16(0))   // 10,000.00, 12 %, 12 months
	f.Add(int64(20000000), uint16(1800), uint8(35), uint8(0), uint16(30)) // 200,000.00, 18 %, 36 months, 31 Jan
	f.Add(int64(1000001), uint16(650), uint8(0), uint8(1), uint16(59))    // a fen, 1 month, 29 Feb 2028
	f.Add(int64(100000), uint16(0), uint8(35), uint8(1), uint16(3))       // zero rate
	f.Add(int64(102000), uint16(850), uint8(35), uint8(2), uint16(100))   // half-cent interest
	f.Add(int64(100300), uint16(850), uint8(11), uint8(3), uint16(400))   // half-cent bullet
	f.Add(int64(100), uint16(3000), uint8(35), uint8(0), uint16(200))     // 1.00 at 30 %
	f.Fuzz(func(t *testing.T, cents int64, bps uint16, term, method uint8, startOffset uint16) {
		if cents <= 0 || cents > 1e12 {
			return
		}
		n := int(term%36) + 1
		m := []Method{EqualInstallment, EqualPrincipal, InterestOnly, Bullet}[method%4]
		p := decimal.New(cents, -2)
		rate := decimal.New(int64(bps%5001), -4) // 0 to 50 %
		start := day(2028, 1, 1).AddDate(0, 0, int(startOffset%1461))
		s, err := Schedule(p, rate, n, m, start)
		require.NoError(t, err)
		if m == Bullet {
			require.Len(t, s, 1)
			require.Equal(t, DueDate(start, n), s[0].DueDate)
			require.True(t, s[0].Principal.Equal(p))
		} else {
			require.Len(t, s, n)
		}

		sum, balance := decimal.Zero, p
		for k, inst := range s {
			require.Equal(t, k+1, inst.No)
			if m != Bullet {
				require.Equal(t, DueDate(start, k+1), inst.DueDate)
			}
			for _, v := range []decimal.Decimal{inst.Principal, inst.Interest, inst.Payment, inst.RemainingPrincipal} {
				require.False(t, v.IsNegative(), "negative part in %d: %+v", inst.No, inst)
				require.True(t, isCents(v), "more than 2 decimals: %s", v)
			}
			require.True(t, inst.Payment.Equal(inst.Principal.Add(inst.Interest)))
			balance = balance.Sub(inst.Principal)
			require.True(t, inst.RemainingPrincipal.Equal(balance))
			sum = sum.Add(inst.Principal)
			last := k == len(s)-1
			switch m {
			case EqualInstallment:
				if k > 0 {
					require.True(t, inst.Interest.LessThanOrEqual(s[k-1].Interest), "interest rose at %d", inst.No)
				}
				if !last && k > 0 && inst.RemainingPrincipal.IsPositive() {
					require.True(t, inst.Payment.Equal(s[0].Payment), "level payment at %d", inst.No)
				}
			case EqualPrincipal:
				if k > 0 {
					require.True(t, inst.Interest.LessThanOrEqual(s[k-1].Interest), "interest rose at %d", inst.No)
				}
			case InterestOnly:
				require.True(t, inst.Interest.Equal(s[0].Interest))
				if !last {
					require.True(t, inst.Principal.IsZero())
				}
			}
		}
		require.True(t, sum.Equal(p), "principal parts %s ≠ amount %s", sum, p)
		require.True(t, s[len(s)-1].RemainingPrincipal.IsZero())
	})
}
