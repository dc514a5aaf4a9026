{{/* Names, labels and the pieces every openlv container shares. Only the Go-template subset listed in README.md. */}}
{{- define "openlv.fullname" -}}{{ .Release.Name }}{{- end -}}

{{- define "openlv.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "openlv.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}

{{- define "openlv.secretName" -}}{{ .Values.secrets.existingSecret | default (printf "%s-secrets" .Release.Name) }}{{- end -}}

{{- define "openlv.rayHeadService" -}}{{ .Release.Name }}-ray-head-svc{{- end -}}

{{/* The settings every openlv process reads: the ConfigMap, the Secret's LV_ and RAY_ variables. */}}
{{- define "openlv.envFrom" -}}
- configMapRef:
    name: {{ .Release.Name }}-settings
- secretRef:
    name: {{ include "openlv.secretName" . }}
{{- end -}}

{{/* The unprivileged user the image creates (uid/gid 10001). */}}
{{- define "openlv.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "openlv.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* LV_HOME is per pod; the two keys every replica must share come from the Secret, mounted into it. */}}
{{- define "openlv.homeMounts" -}}
- name: home
  mountPath: /var/lib/openlv/home
- name: keys
  mountPath: /var/lib/openlv/home/master.key
  subPath: master.key
  readOnly: true
- name: keys
  mountPath: /var/lib/openlv/home/session.key
  subPath: session.key
  readOnly: true
- name: weights
  mountPath: /var/lib/openlv/weights
{{- end -}}

{{- define "openlv.homeVolumes" -}}
- name: home
  emptyDir: {}
- name: keys
  secret:
    secretName: {{ include "openlv.secretName" . }}
    defaultMode: 0440
    items:
      - key: master.key
        path: master.key
      - key: session.key
        path: session.key
- name: weights
{{- if .Values.weights.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.weights.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end -}}
