{{/*
The chart name, unless nameOverride is set. Truncated to 63 characters (a DNS label).
*/}}
{{- define "tiergate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified app name: the release name, followed by the chart name unless the release name already contains it.
Truncated to 63 characters because some Kubernetes name fields are limited to that (a DNS label).
*/}}
{{- define "tiergate.fullname" -}}
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

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "tiergate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels for every object of the release.
*/}}
{{- define "tiergate.labels" -}}
helm.sh/chart: {{ include "tiergate.chart" . }}
{{ include "tiergate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tiergate
{{- end }}

{{/*
Selector labels: the stable subset of the labels, used by the Deployment, Service, ServiceMonitor and PDB selectors.
*/}}
{{- define "tiergate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tiergate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The name of the ServiceAccount Tiergate runs as.
*/}}
{{- define "tiergate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tiergate.fullname" .) .Values.serviceAccount.name }}
{{- else if .Values.serviceAccount.name }}
{{- .Values.serviceAccount.name }}
{{- else if .Values.rbac.create }}
{{- fail "serviceAccount.name is required when serviceAccount.create is false and rbac.create is true: the chart would otherwise grant its cluster permissions to the namespace's default ServiceAccount" }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{/*
The Redis host: the bundled Redis's Service when redis.bundled.enabled, else redis.host.
*/}}
{{- define "tiergate.redisHost" -}}
{{- if .Values.redis.bundled.enabled }}
{{- printf "%s-redis" (include "tiergate.fullname" .) }}
{{- else }}
{{- .Values.redis.host }}
{{- end }}
{{- end }}

{{/*
The container image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "tiergate.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/*
The rules that let Tiergate read pods (its view of inference endpoints).
*/}}
{{- define "tiergate.podReadRules" -}}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{/*
Refuses to render without an explicit choice of the namespaces whose pods receive prompts.
*/}}
{{- define "tiergate.validateCluster" -}}
{{- if and (empty .Values.cluster.namespaces) (not .Values.cluster.watchAllNamespaces) -}}
{{- fail "cluster.namespaces is required: list the namespaces whose labelled pods may receive tenants' prompts (or set cluster.watchAllNamespaces=true to watch every namespace)" -}}
{{- end -}}
{{- if and .Values.cluster.namespaces .Values.cluster.watchAllNamespaces -}}
{{- fail "cluster.namespaces and cluster.watchAllNamespaces=true exclude each other: choose one" -}}
{{- end -}}
{{- end -}}
