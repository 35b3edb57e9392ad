"""Admin actions signed electronically (21 CFR 11.50/11.70).

The action first answers with a page that lists the selected records and asks for what the act
needs (a reason, a note), the signer's own password re-entered and, if wanted, the meaning of
the signature — as Django's delete action asks for a confirmation. Each record is then signed
and changed in one transaction by the same service the API calls.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from mes.errors import ApplicationError
from mes.signatures import SignatureRefused


class SignatureForm(forms.Form):
    signature_password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign. Your name, the meaning, the time and a hash of each record are kept.",
    )
    signature_meaning = forms.CharField(
        label="Meaning of the signature",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Optional; by default the act itself (for example “Released from hold”).",
    )


def signed_action(
    modeladmin: admin.ModelAdmin,
    request,
    queryset,
    *,
    form_class: type[SignatureForm],
    title: str,
    intro: str,
    submit: str,
    sign: Callable[[object, dict], object],
    done: str,
    initial: dict | None = None,
) -> TemplateResponse | None:
    """Show the signing page until its form is valid, then ``sign(row, cleaned_data)`` each row.

    A refused signature (wrong password) shows the page again with the error on the password;
    any other refusal is reported for its row.
    """
    rows = list(queryset.order_by("pk"))
    form = form_class(request.POST if "apply" in request.POST else None, initial=initial)
    if form.is_valid():
        signed = 0
        for row in rows:
            try:
                sign(row, form.cleaned_data)
            except SignatureRefused as exc:
                form.add_error("signature_password", exc.message)
                break
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{row}: {exc.message}", messages.ERROR)
            else:
                signed += 1
        if signed:
            modeladmin.message_user(request, f"{signed} {done}, signed by {request.user.get_username()}.", messages.SUCCESS)
        if not form.errors:
            return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit": submit,
        "rows": rows,
        "form": form,
        "action": request.POST.get("action", ""),
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/signed_action.html", context)
