package proctest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PGConns is how many TCP connections process pid holds open to port (the
// PostgreSQL server's), from Linux's /proc: the sockets among its file
// descriptors that /proc/net/tcp{,6} shows established to that port. 0 once
// the process is gone.
func PGConns(pid, port int) int {
	return countSockets(pid, established(port))
}

// established is the inodes of the sockets established to port, in this
// process's network namespace (its children's too).
func established(port int) map[string]bool {
	remote := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		file, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(file)
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "01" {
				continue
			}
			i := strings.LastIndexByte(fields[2], ':')
			p, err := strconv.ParseInt(fields[2][i+1:], 16, 32)
			if err == nil && int(p) == port {
				remote[fields[9]] = true
			}
		}
		file.Close()
	}
	return remote
}

// countSockets is how many of pid's file descriptors are sockets in inodes.
func countSockets(pid int, inodes map[string]bool) int {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	n := 0
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil {
			continue
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
			n++
		}
	}
	return n
}

// ConnWatch samples the PostgreSQL connections of named processes until
// stopped, keeping each one's peak and the peak of their sum.
type ConnWatch struct {
	port int
	pids func() map[string]int // name → pid, asked at each sample (restarts change them)
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	peaks map[string]int
	total int
}

// WatchConns samples every 200 ms.
func WatchConns(port int, pids func() map[string]int) *ConnWatch {
	w := &ConnWatch{port: port, pids: pids, stop: make(chan struct{}), done: make(chan struct{}), peaks: map[string]int{}}
	go func() {
		defer close(w.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			w.sample()
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *ConnWatch) sample() {
	sum := 0
	now := map[string]int{}
	inodes := established(w.port)
	for name, pid := range w.pids() {
		n := countSockets(pid, inodes)
		now[name] = n
		sum += n
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, n := range now {
		w.peaks[name] = max(w.peaks[name], n)
	}
	w.total = max(w.total, sum)
}

// Stop ends the sampling and answers each process's peak and the peak of
// their sum.
func (w *ConnWatch) Stop() (map[string]int, int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peaks, w.total
}
