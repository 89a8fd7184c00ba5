{{/* The release's resource name, at most 63 characters. */}}
{{- define "cspulse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cspulse.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cspulse.labels" -}}
{{ include "cspulse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The Secret to mount: the existing one, or the chart's own. */}}
{{- define "cspulse.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "cspulse.fullname" .)) -}}
{{- end -}}

{{/* Each password in use, as "file=key" lines: file under
     /etc/cspulse/secrets, key in the Secret. */}}
{{- define "cspulse.secretItems" -}}
{{- $s := .Values.secrets -}}
{{- if $s.existingSecret -}}
{{- if $s.clickhouse.key }}clickhouse-password={{ $s.clickhouse.key }}
{{ end -}}
{{- if $s.kafkaSasl.key }}kafka-sasl-password={{ $s.kafkaSasl.key }}
{{ end -}}
{{- else -}}
{{- if $s.clickhouse.password }}clickhouse-password=clickhouse-password
{{ end -}}
{{- if $s.kafkaSasl.password }}kafka-sasl-password=kafka-sasl-password
{{ end -}}
{{- end -}}
{{- end -}}

{{/* config.yaml: .Values.config with what the chart owns set on top. */}}
{{- define "cspulse.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $run := get $cfg "run" | default dict -}}
{{- $_ := set $run "http_listen" (printf "0.0.0.0:%d" (int .Values.port)) -}}
{{- $_ := set $cfg "run" $run -}}
{{- $items := include "cspulse.secretItems" . -}}
{{- if contains "clickhouse-password=" $items -}}
{{- $ch := get $cfg "clickhouse" | default dict -}}
{{- $_ := set $ch "password_file" "/etc/cspulse/secrets/clickhouse-password" -}}
{{- $_ := set $cfg "clickhouse" $ch -}}
{{- end -}}
{{- if contains "kafka-sasl-password=" $items -}}
{{- $kafka := get $cfg "kafka" | default dict -}}
{{- $sasl := get $kafka "sasl" | default dict -}}
{{- $_ := set $sasl "password_file" "/etc/cspulse/secrets/kafka-sasl-password" -}}
{{- $_ := set $kafka "sasl" $sasl -}}
{{- $_ := set $cfg "kafka" $kafka -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The config file and the secrets, for a container. */}}
{{- define "cspulse.volumeMounts" -}}
- name: config
  mountPath: /etc/cspulse/config.yaml
  subPath: config.yaml
  readOnly: true
{{- if include "cspulse.secretItems" . }}
- name: secrets
  mountPath: /etc/cspulse/secrets
  readOnly: true
{{- end }}
{{- end -}}

{{- define "cspulse.volumes" -}}
- name: config
  configMap:
    name: {{ include "cspulse.fullname" . }}
{{- with include "cspulse.secretItems" . }}
- name: secrets
  secret:
    secretName: {{ include "cspulse.secretName" $ }}
    defaultMode: 0400
    items:
      {{- range splitList "\n" (trim .) }}
      {{- $kv := splitList "=" . }}
      - key: {{ index $kv 1 }}
        path: {{ index $kv 0 }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "cspulse.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
{{- end -}}

{{- define "cspulse.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
