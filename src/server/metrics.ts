/**
 * Prometheus text-format metrics for `kmsenv serve`: requests by route and
 * status, bytes in and out, in-flight requests, KMS calls and cache hits.
 * Plain counters in maps: a scrape is rare, a request is not, so recording
 * must cost next to nothing and rendering may do the work.
 *
 * @module
 */

/** Counters the crypto layer reports (KMS calls, cache use). */
export interface CryptoStats {
  /** KMS calls made, by action (e.g. `GenerateDataKey`, `Decrypt`). */
  kmsCalls: Record<string, number>;
  /** Cache hits and misses, by cache name (`data_key`, `decrypt`). */
  cacheHits: Record<string, number>;
  cacheMisses: Record<string, number>;
}

/** Request counters of one server. */
export class Metrics {
  #requests = new Map<string, number>();
  #bytesIn = new Map<string, number>();
  #bytesOut = new Map<string, number>();
  #inFlight = 0;
  #rejectedBusy = 0;
  #aborts = new Map<string, number>();
  readonly #started = Date.now();

  /** Marks a request as started; returns the function that marks it done. */
  begin(): () => void {
    this.#inFlight++;
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.#inFlight--;
      }
    };
  }

  /** The number of requests being handled right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Counts one finished request. `route` is the route pattern, never the raw URL. */
  countRequest(route: string, method: string, status: number): void {
    const key = `${route}\u0000${method}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  /** Adds request body bytes read for `route`. */
  addBytesIn(route: string, n: number): void {
    this.#bytesIn.set(route, (this.#bytesIn.get(route) ?? 0) + n);
  }

  /** Adds response body bytes sent for `route`. */
  addBytesOut(route: string, n: number): void {
    this.#bytesOut.set(route, (this.#bytesOut.get(route) ?? 0) + n);
  }

  /** Counts a streaming response aborted after its status was sent. */
  countAbort(route: string): void {
    this.#aborts.set(route, (this.#aborts.get(route) ?? 0) + 1);
  }

  /** Counts a request refused because the server was saturated. */
  countBusy(): void {
    this.#rejectedBusy++;
  }

  /** Renders every metric in the Prometheus text exposition format 0.0.4. */
  render(crypto?: CryptoStats): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family("kmsenv_http_requests_total", "counter", "HTTP requests by route, method and status.");
    for (const [key, n] of [...this.#requests].sort()) {
      const [route, method, status] = key.split("\u0000");
      out.push(
        `kmsenv_http_requests_total{route="${label(route!)}",method="${method}",` +
          `status="${status}"} ${n}`,
      );
    }
    family("kmsenv_http_request_bytes_total", "counter", "Request body bytes read, by route.");
    for (const [route, n] of [...this.#bytesIn].sort()) {
      out.push(`kmsenv_http_request_bytes_total{route="${label(route)}"} ${n}`);
    }
    family("kmsenv_http_response_bytes_total", "counter", "Response body bytes sent, by route.");
    for (const [route, n] of [...this.#bytesOut].sort()) {
      out.push(`kmsenv_http_response_bytes_total{route="${label(route)}"} ${n}`);
    }
    family("kmsenv_http_in_flight_requests", "gauge", "Requests being handled now.");
    out.push(`kmsenv_http_in_flight_requests ${this.#inFlight}`);
    family(
      "kmsenv_http_stream_aborts_total",
      "counter",
      "Streaming responses aborted mid-body (e.g. a tampered ciphertext), by route.",
    );
    for (const [route, n] of [...this.#aborts].sort()) {
      out.push(`kmsenv_http_stream_aborts_total{route="${label(route)}"} ${n}`);
    }
    family("kmsenv_http_rejected_busy_total", "counter", "Requests refused with 503 (saturated).");
    out.push(`kmsenv_http_rejected_busy_total ${this.#rejectedBusy}`);
    if (crypto) {
      family("kmsenv_kms_calls_total", "counter", "KMS API calls, by action.");
      for (const [action, n] of Object.entries(crypto.kmsCalls).sort()) {
        out.push(`kmsenv_kms_calls_total{action="${label(action)}"} ${n}`);
      }
      family("kmsenv_cache_hits_total", "counter", "Key cache hits, by cache.");
      for (const [cache, n] of Object.entries(crypto.cacheHits).sort()) {
        out.push(`kmsenv_cache_hits_total{cache="${label(cache)}"} ${n}`);
      }
      family("kmsenv_cache_misses_total", "counter", "Key cache misses, by cache.");
      for (const [cache, n] of Object.entries(crypto.cacheMisses).sort()) {
        out.push(`kmsenv_cache_misses_total{cache="${label(cache)}"} ${n}`);
      }
    }
    family("kmsenv_uptime_seconds", "gauge", "Seconds since the server started.");
    out.push(`kmsenv_uptime_seconds ${Math.floor((Date.now() - this.#started) / 1000)}`);
    return out.join("\n") + "\n";
  }
}

/** Escapes a label value (backslash, quote, newline) per the exposition format. */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}
