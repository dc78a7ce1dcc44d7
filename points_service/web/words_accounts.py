"""The layer's words for the user's own account: changing the password (also when forced at the first
sign-in after a reset or an import) and a sign-in refused because the account is switched off."""

from __future__ import annotations

ZH_CN: dict[str, str] = {
    "change_password": "修改密码",
    "current_password": "当前密码",
    "new_password": "新密码",
    "new_password_again": "再次输入新密码",
    "save_password": "保存新密码",
    "password_rules": "新密码 8 到 128 个字符，不能与用户名或当前密码相同。",
    "password_change_required": "首次登录或密码被重置后，请先设置自己的新密码，才能继续使用。",
    "password_changed": "密码已修改，其他设备上的登录已退出",
    "wrong_password": "当前密码不对，请重新输入",
    "password_mismatch": "两次输入的新密码不一样，请重新输入",
    "password_not_allowed": "新密码不符合要求：8 到 128 个字符，不能与用户名或当前密码相同",
    "account_disabled": "账号已停用，不能登录。如有疑问，请联系社区工作人员。",
}
EN: dict[str, str] = {
    "change_password": "Change password",
    "current_password": "Current password",
    "new_password": "New password",
    "new_password_again": "New password again",
    "save_password": "Save the new password",
    "password_rules": "8 to 128 characters, not your username or your current password.",
    "password_change_required": "Please choose a password of your own before you go on (first sign-in or a reset).",
    "password_changed": "Password changed; sessions on other devices were signed out",
    "wrong_password": "The current password is wrong; please type it again",
    "password_mismatch": "The two new passwords differ; please type them again",
    "password_not_allowed": "That password is not allowed: 8 to 128 characters, not your username or current one",
    "account_disabled": "This account is switched off and cannot sign in. Please ask the community office.",
}
