package db

import (
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// ObservePool shows pool's figures at /metrics under the name (api, worker,
// bank): lendflow_db_pool_acquire_wait_seconds_total is the time requests
// spent waiting for a free connection, the first thing to read when latency
// grows with concurrency. The returned func stops showing it (call it when
// the pool closes). A second pool under one name replaces the first.
func ObservePool(name string, pool *pgxpool.Pool) (stop func()) {
	poolsOnce.Do(func() { prometheus.MustRegister(pools) })
	pools.mu.Lock()
	pools.byName[name] = pool
	pools.mu.Unlock()
	return func() {
		pools.mu.Lock()
		defer pools.mu.Unlock()
		if pools.byName[name] == pool {
			delete(pools.byName, name)
		}
	}
}

var (
	poolsOnce sync.Once
	pools     = &poolCollector{byName: map[string]*pgxpool.Pool{}}
)

var (
	poolMaxDesc      = prometheus.NewDesc("lendflow_db_pool_max_connections", "Connections the pool may open (pool_max_conns).", []string{"pool"}, nil)
	poolTotalDesc    = prometheus.NewDesc("lendflow_db_pool_connections", "Connections open, by state.", []string{"pool", "state"}, nil)
	poolAcquireDesc  = prometheus.NewDesc("lendflow_db_pool_acquires_total", "Connections handed out.", []string{"pool"}, nil)
	poolWaitedDesc   = prometheus.NewDesc("lendflow_db_pool_acquires_waited_total", "Acquires that had to wait for a connection.", []string{"pool"}, nil)
	poolWaitTimeDesc = prometheus.NewDesc("lendflow_db_pool_acquire_wait_seconds_total", "Time acquires spent waiting for a connection.", []string{"pool"}, nil)
)

type poolCollector struct {
	mu     sync.Mutex
	byName map[string]*pgxpool.Pool
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolMaxDesc, poolTotalDesc, poolAcquireDesc, poolWaitedDesc, poolWaitTimeDesc} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, p := range c.byName {
		st := p.Stat()
		ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(st.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(poolTotalDesc, prometheus.GaugeValue, float64(st.AcquiredConns()), name, "acquired")
		ch <- prometheus.MustNewConstMetric(poolTotalDesc, prometheus.GaugeValue, float64(st.IdleConns()), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolAcquireDesc, prometheus.CounterValue, float64(st.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitedDesc, prometheus.CounterValue, float64(st.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitTimeDesc, prometheus.CounterValue, st.EmptyAcquireWaitTime().Seconds(), name)
	}
}
