declare module "parse-prometheus-text-format" {
  /** Metric families as the parser returns them; sample values stay strings. */
  export default function parsePrometheusTextFormat(text: string): {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "SUMMARY" | "HISTOGRAM" | "UNTYPED";
    metrics: { labels?: Record<string, string>; value: string }[];
  }[];
}
