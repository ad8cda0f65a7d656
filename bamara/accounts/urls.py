from django.urls import path

from . import manager_views, views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.Login.as_view(), name="login"),
    path("deconnexion/", views.Logout.as_view(), name="logout"),
    path("inscription/", views.register, name="register"),
    path("inscription/sites/", views.register_sites, name="register_sites"),
    path("inscription/envoyee/", views.register_done, name="register_done"),
    path("inscription/confirmer/<str:token>/", views.confirm_email, name="confirm_email"),
    path("mot-de-passe/oublie/", views.PasswordReset.as_view(), name="password_reset"),
    path("mot-de-passe/oublie/envoye/", views.PasswordResetDone.as_view(),
         name="password_reset_done"),
    path("mot-de-passe/nouveau/<uidb64>/<token>/", views.PasswordResetConfirm.as_view(),
         name="password_reset_confirm"),
    path("mot-de-passe/modifie/", views.PasswordResetComplete.as_view(),
         name="password_reset_complete"),
    path("compte/", views.account, name="account"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path("compte/2fa/", views.otp, name="otp"),
    path("compte/2fa/activer/", views.totp_enable, name="totp_enable"),
    path("compte/2fa/desactiver/", views.totp_disable, name="totp_disable"),
    path("gestion/demandes/", manager_views.requests, name="requests"),
    path("gestion/demandes/<int:pk>/", manager_views.request_detail, name="request_detail"),
    path("gestion/utilisateurs/<int:pk>/", manager_views.user_detail, name="user_detail"),
    path("gestion/utilisateurs/<int:pk>/desactiver/", manager_views.user_deactivate,
         name="user_deactivate"),
    path("gestion/utilisateurs/<int:pk>/reactiver/", manager_views.user_reactivate,
         name="user_reactivate"),
    path("gestion/rattachements/<int:pk>/desactiver/", manager_views.membership_deactivate,
         name="membership_deactivate"),
]
