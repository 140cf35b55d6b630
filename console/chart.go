package console

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Chart is a stacked area chart of overdue amounts by DPD bucket over time,
// drawn as inline SVG by the disclosure page: no script and no image file.
// Coordinates are floats because they are pixels; the amounts they are
// drawn from stay decimals until here.
type Chart struct {
	Width, Height            int
	Left, Right, Top, Bottom float64 // the plot area's edges
	Empty                    bool
	Series                   []Series
	YTicks                   []Tick
	XTicks                   []Tick
	Dots                     []Dot
	Summary                  string // what the chart shows, for screen readers
}

// Series is one bucket's band, or one line of a LineChart.
type Series struct {
	Name    string
	Class   string // the CSS class that colours it (b1 … b4)
	Polygon string // SVG points of the band
	Line    string // SVG points of the line (LineChart)
}

// Tick is one labelled position on an axis; Anchor aligns its label
// (the end ticks of the date axis keep their labels inside the chart).
type Tick struct {
	Pos    float64
	Label  string
	Anchor string
}

// Dot marks one snapshot on the top of the stack, with its figures as a tooltip.
type Dot struct {
	X, Y  float64
	Title string
}

// ChartPoint is one date's overdue amounts, in the order of the series names.
type ChartPoint struct {
	Date   time.Time
	Values []decimal.Decimal
}

const (
	chartWidth, chartHeight = 760, 280
	chartLeft, chartRight   = 64, 748
	chartTop, chartBottom   = 16, 248
	// singleBar is the width of the band drawn for a history of one date.
	singleBar = 28
)

// OverdueChart stacks the points' values, bucket by bucket, in date order.
func OverdueChart(names []string, points []ChartPoint) Chart {
	c := Chart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom}
	if len(points) == 0 {
		c.Empty = true
		c.Summary = "no snapshots yet"
		return c
	}
	// stack[i][k] is the sum of the first k+1 buckets on point i.
	stack := make([][]decimal.Decimal, len(points))
	top := decimal.Zero
	for i, p := range points {
		stack[i] = make([]decimal.Decimal, len(names))
		sum := decimal.Zero
		for k := range names {
			if k < len(p.Values) {
				sum = sum.Add(p.Values[k])
			}
			stack[i][k] = sum
		}
		top = decimal.Max(top, sum)
	}
	f := newFrame(points, top)
	x, y, first, last := f.x, f.y, f.first, f.last
	for k, name := range names {
		var up, down []string
		for i, p := range points {
			below := decimal.Zero
			if k > 0 {
				below = stack[i][k-1]
			}
			xs := []float64{x(p.Date)}
			if f.span == 0 {
				xs = []float64{x(p.Date) - singleBar/2, x(p.Date) + singleBar/2}
			}
			for _, px := range xs {
				up = append(up, pt(px, y(stack[i][k])))
				down = append([]string{pt(px, y(below))}, down...)
			}
		}
		c.Series = append(c.Series, Series{Name: name, Class: fmt.Sprintf("b%d", k+1), Polygon: strings.Join(append(up, down...), " ")})
	}
	c.axes(f)
	for i, p := range points {
		c.Dots = append(c.Dots, Dot{X: x(p.Date), Y: y(stack[i][len(names)-1]), Title: p.title(names)})
	}
	c.Summary = fmt.Sprintf("overdue amounts by DPD bucket from %s to %s, %d snapshots, at most %s",
		first.Format(time.DateOnly), last.Format(time.DateOnly), len(points), top.StringFixed(2))
	return c
}

// frame is where a chart's amounts (up to top, on a round scale) and dates
// (its points' first to last; a single date in the middle) fall in the SVG.
type frame struct {
	yMax, step  float64
	first, last time.Time
	span        float64 // days from first to last
}

func newFrame(points []ChartPoint, top decimal.Decimal) frame {
	f := frame{first: points[0].Date, last: points[len(points)-1].Date}
	f.yMax, f.step = niceScale(top.InexactFloat64())
	f.span = f.last.Sub(f.first).Hours() / 24
	return f
}

func (f frame) y(v decimal.Decimal) float64 {
	return chartBottom - v.InexactFloat64()/f.yMax*(chartBottom-chartTop)
}

func (f frame) x(d time.Time) float64 {
	if f.span == 0 {
		return (chartLeft + chartRight) / 2
	}
	return chartLeft + d.Sub(f.first).Hours()/24/f.span*(chartRight-chartLeft)
}

// axes marks the amounts up the side and up to six dates along the bottom
// (the first anchored at its start, the last at its end, so neither is cut).
func (c *Chart) axes(f frame) {
	for v := 0.0; v <= f.yMax+f.step/2; v += f.step {
		c.YTicks = append(c.YTicks, Tick{Pos: chartBottom - v/f.yMax*(chartBottom-chartTop), Label: compactAmount(v)})
	}
	ticks := dateTicks(f.first, f.last)
	for i, d := range ticks {
		anchor := "middle"
		switch {
		case len(ticks) == 1:
		case i == 0:
			anchor = "start"
		case i == len(ticks)-1:
			anchor = "end"
		}
		c.XTicks = append(c.XTicks, Tick{Pos: f.x(d), Label: d.Format("01-02"), Anchor: anchor})
	}
}

// title is a point's tooltip: its date and each name's value.
func (p ChartPoint) title(names []string) string {
	parts := []string{p.Date.Format(time.DateOnly)}
	for k, name := range names {
		if k < len(p.Values) {
			parts = append(parts, name+" "+p.Values[k].StringFixed(2))
		}
	}
	return strings.Join(parts, ", ")
}

func pt(x, y float64) string { return fmt.Sprintf("%.1f,%.1f", x, y) }

// niceScale is the axis top and step for values up to max: 4 steps of 1, 2,
// 2.5 or 5 times a power of ten.
func niceScale(max float64) (top, step float64) {
	if max <= 0 {
		return 100, 25
	}
	raw := max / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step * 4, step
}

// compactAmount writes a tick value short enough for a phone's width:
// 500, 2.5k, 60k, 1.2M (ticks are round numbers; the table has the cents).
func compactAmount(v float64) string {
	trim := func(f float64, unit string) string {
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", f), "0"), ".") + unit
	}
	switch {
	case v >= 1e6:
		return trim(v/1e6, "M")
	case v >= 1e3:
		return trim(v/1e3, "k")
	}
	return trim(v, "")
}

// dateTicks are up to six dates from first to last, evenly spaced by days.
func dateTicks(first, last time.Time) []time.Time {
	days := int(last.Sub(first).Hours() / 24)
	if days == 0 {
		return []time.Time{first}
	}
	n := min(days, 5)
	out := make([]time.Time, 0, n+1)
	for i := 0; i <= n; i++ {
		out = append(out, first.AddDate(0, 0, days*i/n))
	}
	return out
}

// LineChart draws each name's values over the dates as a line of its own,
// not stacked (the reports page: money in and out, lending, by day).
func LineChart(names []string, points []ChartPoint, what string) Chart {
	c := Chart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom}
	if len(points) == 0 {
		c.Empty = true
		c.Summary = "no days yet"
		return c
	}
	top := decimal.Zero
	for _, p := range points {
		for _, v := range p.Values {
			top = decimal.Max(top, v)
		}
	}
	f := newFrame(points, top)
	x, y, first, last := f.x, f.y, f.first, f.last
	for k, name := range names {
		var line []string
		for _, p := range points {
			v := decimal.Zero
			if k < len(p.Values) {
				v = p.Values[k]
			}
			line = append(line, pt(x(p.Date), y(v)))
		}
		c.Series = append(c.Series, Series{Name: name, Class: fmt.Sprintf("b%d", k+1), Line: strings.Join(line, " ")})
	}
	c.axes(f)
	for _, p := range points {
		c.Dots = append(c.Dots, Dot{X: x(p.Date), Y: chartBottom, Title: p.title(names)})
	}
	c.Summary = fmt.Sprintf("%s by day from %s to %s, at most %s", what, first.Format(time.DateOnly), last.Format(time.DateOnly), top.StringFixed(2))
	return c
}
