{{/* Chart name, overridable. */}}
{{- define "churn-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: the release name when it already contains the chart name. */}}
{{- define "churn-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "churn-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "churn-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: churn-operator
{{- end }}

{{/* Labels selecting the operator pods. */}}
{{- define "churn-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "churn-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "churn-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "churn-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The leader Lease name. */}}
{{- define "churn-operator.leaseName" -}}
{{- default (include "churn-operator.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{/* An image reference from {repository, tag, digest}: digest wins, then tag, then appVersion. */}}
{{- define "churn-operator.image" -}}
{{- $img := index . 0 }}{{- $root := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/*
Whether a Prometheus Operator kind is rendered: `enabled` true always, false never, "auto" only
when the cluster serves monitoring.coreos.com/v1 (`helm template --api-versions` may name the
group/version or group/version/kind). Prints "true" or nothing.
*/}}
{{- define "churn-operator.monitoringEnabled" -}}
{{- $enabled := index . 0 }}{{- $kind := index . 1 }}{{- $root := index . 2 }}
{{- if eq (toString $enabled) "true" }}true
{{- else if and (eq (toString $enabled) "auto") (or ($root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") ($root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind))) }}true
{{- end }}
{{- end }}

{{/* PromQL matchers for the operator's series. */}}
{{- define "churn-operator.operatorSelector" -}}
{{- if .Values.prometheusRule.operatorSelector }}
{{- .Values.prometheusRule.operatorSelector }}
{{- else }}
{{- printf "job=%q,namespace=%q" (printf "%s-metrics" (include "churn-operator.fullname" .)) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* PromQL matchers for the runtime pods' series. */}}
{{- define "churn-operator.runtimeSelector" -}}
{{- default "churn_model!=\"\"" .Values.prometheusRule.runtimeSelector }}
{{- end }}

{{/*
PromQL matchers for the operator's per-ChurnModel rollout series, whose `namespace` is the
model's (the ServiceMonitor honours it): the metrics Service's job alone, or operatorSelector
as given when set.
*/}}
{{- define "churn-operator.rolloutSelector" -}}
{{- if .Values.prometheusRule.operatorSelector }}
{{- .Values.prometheusRule.operatorSelector }}
{{- else }}
{{- printf "job=%q" (printf "%s-metrics" (include "churn-operator.fullname" .)) }}
{{- end }}
{{- end }}

{{/*
PromQL: how much each series of the counter selector `.` grew in the last 10 minutes. A series
absent 10 minutes ago counts from zero (a reason this process never counted before, or a
process that counted before Prometheus first scraped it), which increase() alone cannot see.
*/}}
{{- define "churn-operator.increase10m" -}}
({{ . }} unless {{ . }} offset 10m) or increase({{ . }}[10m])
{{- end }}

{{/*
The alert "a <kind> failed", one per reason, from the operator's
churn_<kind>_completions_total{result,reason} (RunOutcomeMetrics counts each run once, on the
status write that ends it; a failure stays in the 10-minute window long enough to be routed).
Takes (dict "kind" "TrainingRun" "alert" <its values> "why" <where the run's status says why>
"root" $).
*/}}
{{- define "churn-operator.runFailedAlert" -}}
{{- $v := .alert }}{{- $kind := .kind }}
{{- $rule := .root.Values.prometheusRule }}
{{- $name := printf "Churn%sFailed" $kind }}
{{- $failed := printf "churn_%s_completions_total{%s,result=\"failed\"}" (lower $kind) (include "churn-operator.operatorSelector" .root) -}}
- alert: {{ $name }}
  expr: |
    sum by (reason) ({{ include "churn-operator.increase10m" $failed }}) > 0
  for: {{ $v.for }}
  labels:
    severity: {{ $v.severity }}
    {{- with $rule.additionalAlertLabels }}{{ toYaml . | nindent 4 }}{{ end }}
  annotations:
    summary: >-
      A {{ $kind }} failed: {{`{{ $labels.reason }}`}}.
    description: >-
      {{`{{ $value | printf "%.0f" }}`}} {{ $kind }}(s) failed with reason {{`{{ $labels.reason }}`}} in the last 10 minutes. `kubectl get events -A --field-selector involvedObject.kind={{ $kind }},reason={{`{{ $labels.reason }}`}}` names them; {{ .why }}
    {{- if $rule.runbookUrlBase }}
    runbook_url: {{ printf "%s#%s" $rule.runbookUrlBase (lower $name) }}
    {{- end }}
{{- end }}
