/** Prometheus metrics of the daemon (docs/operations.md, "Metrics"). */
export { DaemonMetrics, METRIC_PREFIX, type MetricSources, type AuthFailureKind } from './daemon-metrics';
export { metricsPage, rootAdmins, isSameMachine, type MetricsPageOptions } from './metrics-page';
export { OTHER_LABEL } from './route-series';
