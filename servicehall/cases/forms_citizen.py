"""Forms around the generated application form: who applies, materials, progress, rating."""

from django import forms
from django.utils.translation import gettext_lazy as _

from servicehall.core.idnumbers import validate_cn_mobile, validate_id_number

from .attachments import MaterialFileField, materials_for
from .models import GreenChannel, RatingLevel


class ServiceOptionsForm(forms.Form):
    green_channel = forms.ChoiceField(
        label=_("绿色通道"),
        choices=GreenChannel.choices,
        required=False,
        help_text=_("残疾人等行动不便群众、省市重点项目可优先办理，工作人员将核实。"),
    )
    door_to_door = forms.BooleanField(label=_("申请上门服务（受理、核查、送达）"), required=False)


class AgentApplicantForm(forms.Form):
    """代办: an enterprise agent names the employee the application is for."""

    enterprise = forms.ModelChoiceField(label=_("代办企业"), queryset=None, empty_label=None)
    applicant_name = forms.CharField(label=_("申请人姓名"), max_length=30)
    applicant_id_number = forms.CharField(
        label=_("申请人身份证号码"), max_length=18, validators=[validate_id_number]
    )
    applicant_phone = forms.CharField(
        label=_("申请人手机号码"),
        max_length=11,
        validators=[validate_cn_mobile],
        help_text=_("办理进度短信发送到此号码，也用于查询进度。"),
    )

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises

    def applicant(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["applicant_name"],
            "id_number": data["applicant_id_number"].upper(),
            "phone": data["applicant_phone"],
        }


def materials_form_class(item_document: dict) -> type[forms.Form]:
    """One optional file field per material slot; required ones are checked at submission
    against everything uploaded so far (a draft may be completed over several visits)."""
    attrs = {}
    for slot in materials_for(item_document):
        help_text = "；".join(filter(None, [slot["note"], slot["sample"]]))
        attrs[f"material_{slot['index']}"] = MaterialFileField(
            label=slot["name"], required=False, help_text=help_text
        )
    form_class = type("MaterialsForm", (forms.Form,), attrs)
    form_class.slots = materials_for(item_document)
    return form_class


def uploads_of(materials_form) -> list[tuple]:
    """(material name, upload, validated) for each file in a valid materials form."""
    return [
        (slot["name"], upload, upload.validated)
        for slot in materials_form.slots
        if (upload := materials_form.cleaned_data.get(f"material_{slot['index']}"))
    ]


class ProgressForm(forms.Form):
    number = forms.CharField(label=_("办件编号"), max_length=24)
    phone = forms.CharField(
        label=_("申请时填写的手机号码"),
        max_length=11,
        validators=[validate_cn_mobile],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("您对本次服务的评价"),
        choices=RatingLevel.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("意见和建议"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BatchUploadForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("申报企业"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=_("人员名单（CSV 或 Excel）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
