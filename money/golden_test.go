package money

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoldenReference compares Schedule and Split with testdata/golden.txt,
// written by testdata/reference.py: a separate implementation of docs/rules.md
// "Money rules" in exact rational arithmetic, sharing no code with this
// package. It holds random loans over every method, grade rate and term, and
// loans that land on exact half cents.
func TestGoldenReference(t *testing.T) {
	f, err := os.Open("testdata/golden.txt")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	schedules, splits := 0, 0
	var want []string // rows of the schedule being read
	var got []Installment
	flush := func() {
		if got == nil {
			return
		}
		require.Len(t, got, len(want))
		for k, i := range got {
			line := strings.Join([]string{strconv.Itoa(i.No), i.DueDate.Format(time.DateOnly), i.Principal.StringFixed(2),
				i.Interest.StringFixed(2), i.Payment.StringFixed(2), i.RemainingPrincipal.StringFixed(2)}, " ")
			assert.Equal(t, want[k], line)
		}
		got, want = nil, nil
	}
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch fields[0] {
		case "schedule":
			flush()
			n, err := strconv.Atoi(fields[3])
			require.NoError(t, err)
			start, err := time.Parse(time.DateOnly, fields[5])
			require.NoError(t, err)
			got, err = Schedule(d(fields[1]), d(fields[2]), n, Method(fields[4]), start)
			require.NoError(t, err, sc.Text())
			schedules++
		case "split":
			flush()
			shares := Split(d(fields[1]), ds(fields[2:]...))
			require.True(t, sc.Scan())
			assert.Equal(t, strings.Join(strs(shares), " "), sc.Text(), strings.Join(fields, " "))
			splits++
		default:
			want = append(want, sc.Text())
		}
	}
	flush()
	require.NoError(t, sc.Err())
	assert.Greater(t, schedules, 100)
	assert.Greater(t, splits, 100)
}
